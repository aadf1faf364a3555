import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12; // the size GCM is designed for
const TAG_BYTES = 16;

/**
 * Encrypts small secrets for storage: AES-256-GCM with a random IV per value, so equal secrets
 * give different ciphertexts and a modified ciphertext fails to open instead of decrypting to garbage.
 * Sealed form: `v1.<base64url(iv | tag | ciphertext)>`; the version leaves room for a key rotation.
 */
export class SecretBox {
  private readonly key: Buffer;

  /**
   * `material` is any high-entropy string (SECRET_KEY or a generated server secret); HKDF turns it
   * into a key used for nothing else, so the same material can also key other things safely.
   */
  constructor(material: string, purpose: string) {
    this.key = Buffer.from(hkdfSync("sha256", material, "thingsnxt", `secret-box:${purpose}`, 32));
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
  }

  /** Throws when the value was not sealed with this key or was altered. */
  open(sealed: string): string {
    const [version, payload] = sealed.split(".");
    if (version !== VERSION || payload === undefined) throw new Error("sealed value has an unknown format");
    const raw = Buffer.from(payload, "base64url");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error("sealed value is truncated");
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  }
}
