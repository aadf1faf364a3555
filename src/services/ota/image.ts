import { badInput } from "../../platform/errors.js";

/** An ESP32 application image starts with this byte (esp_image_header_t.magic). */
export const IMAGE_MAGIC = 0xe9;
/** esp_app_desc_t: after the 24-byte image header and the first segment's 8-byte header. */
const DESC_OFFSET = 32;
const DESC_MAGIC = 0xabcd5432;
const VERSION_OFFSET = 48;
const VERSION_LENGTH = 32;
/** Bytes needed to read the descriptor's version. */
export const HEADER_BYTES = VERSION_OFFSET + VERSION_LENGTH;

/** The NUL-terminated version of the image's app descriptor; undefined when it has none. */
export function descriptorVersion(head: Buffer): string | undefined {
  if (head.length < HEADER_BYTES || head.readUInt32LE(DESC_OFFSET) !== DESC_MAGIC) return undefined;
  const field = head.subarray(VERSION_OFFSET, VERSION_OFFSET + VERSION_LENGTH);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString("utf8");
}

/** Refuses (400) what is not an ESP32 application image, or one whose descriptor names another version. */
export function checkImage(head: Buffer, version: string): void {
  if (head.length === 0) throw badInput("The body is empty: send the firmware image as application/octet-stream");
  if (head[0] !== IMAGE_MAGIC) throw badInput("Not an ESP32 application image: the first byte must be 0xE9");
  const own = descriptorVersion(head);
  if (own !== undefined && own !== version) throw badInput(`The image's app descriptor carries version "${own}", not "${version}"`);
}
