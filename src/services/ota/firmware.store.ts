import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { Pool, PoolClient } from "pg";
import { AppError, badInput } from "../../platform/errors.js";
import { UUID_RE } from "../../platform/ids.js";
import { LoadingCache } from "../../platform/loading-cache.js";
import { checkImage, HEADER_BYTES } from "./image.js";

/** Rows of firmware_chunks hold this much of an image. */
export const CHUNK_BYTES = 256 * 1024;
/** A download is written in slices this long, so a slow reader holds back only its own socket. */
const SLICE_BYTES = 64 * 1024;
/**
 * Images kept in memory for downloads, at most (each at most MAX_FIRMWARE_BYTES). A rollout has
 * hundreds of devices fetch the same image: read once, they share one copy, where a query per slice
 * and download cost a connection each and held a copy of every slice in flight.
 */
const CACHED_IMAGES = 4;

export const firmwareNotFound = () => new AppError("NOT_FOUND", "Firmware not found");
export const tooLarge = (limit: number) => new AppError("PAYLOAD_TOO_LARGE", `The image is larger than ${limit} bytes (MAX_FIRMWARE_BYTES)`);

export interface FirmwareRow {
  id: string;
  ownerId: string;
  title: string;
  version: string;
  size: number;
  sha256: string;
  md5: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, owner_id AS "ownerId", title, version, size, sha256, md5, created_at AS "createdAt", updated_at AS "updatedAt"`;

function checkText(value: string | undefined, name: string, max: number): string {
  const text = value?.trim() ?? "";
  if (text.length === 0) throw badInput(`${name} is required`);
  if (text.length > max) throw badInput(`${name} is longer than ${max} characters`);
  return text;
}

/**
 * Firmware images in PostgreSQL: every process reads them and they survive restarts. An upload is
 * streamed into 256 KiB rows in one transaction with its firmware row (all of it or nothing); a
 * download reads 64 KiB slices one query at a time, so many downloads at once hold little memory.
 */
export class FirmwareStore {
  /** Images are immutable (an id is never reused), so a cached copy is never stale. */
  private readonly images = new LoadingCache<string, Buffer>({ max: CACHED_IMAGES, load: (id) => this.loadImage(id) });

  constructor(
    private readonly pool: Pool,
    private readonly maxBytes: number,
  ) {}

  private async loadImage(firmwareId: string): Promise<Buffer | undefined> {
    const { rows } = await this.pool.query<{ data: Buffer }>(`SELECT data FROM firmware_chunks WHERE firmware_id = $1 ORDER BY seq`, [firmwareId]);
    return rows.length === 0 ? undefined : Buffer.concat(rows.map((r) => r.data));
  }

  async upload(ownerId: string, rawTitle: string | undefined, rawVersion: string | undefined, body: Readable): Promise<FirmwareRow> {
    const title = checkText(rawTitle, "title", 100);
    const version = checkText(rawVersion, "version", 31);
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const id = await this.claim(client, ownerId, title, version);
      const sha256 = createHash("sha256");
      const md5 = createHash("md5");
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let size = 0;
      let seq = 0;
      let checked = false;
      const flush = async (all: boolean) => {
        let joined = Buffer.concat(pending, pendingBytes);
        while (joined.length >= CHUNK_BYTES || (all && joined.length > 0)) {
          const row = joined.subarray(0, CHUNK_BYTES);
          await client.query(`INSERT INTO firmware_chunks (firmware_id, seq, data) VALUES ($1, $2, $3)`, [id, seq++, row]);
          joined = joined.subarray(row.length);
        }
        pending = joined.length > 0 ? [Buffer.from(joined)] : [];
        pendingBytes = joined.length;
      };
      // Not destroyed on a refusal: the rest is read and dropped, so the client gets the answer on a sound connection.
      for await (const piece of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        size += piece.length;
        if (size > this.maxBytes) throw tooLarge(this.maxBytes);
        sha256.update(piece);
        md5.update(piece);
        pending.push(piece);
        pendingBytes += piece.length;
        if (!checked && pendingBytes >= HEADER_BYTES) {
          checkImage(Buffer.concat(pending, pendingBytes), version);
          checked = true;
        }
        if (pendingBytes >= CHUNK_BYTES) await flush(false);
      }
      if (!checked) checkImage(Buffer.concat(pending, pendingBytes), version);
      await flush(true);
      const { rows } = await client.query<FirmwareRow>(`UPDATE firmwares SET size = $2, sha256 = $3, md5 = $4 WHERE id = $1 RETURNING ${COLUMNS}`, [
        id,
        size,
        sha256.digest("hex"),
        md5.digest("hex"),
      ]);
      await client.query("COMMIT");
      return rows[0]!;
    } catch (error) {
      if (!body.readableEnded) body.resume();
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The firmware row, first of the transaction: a title+version that exists is a CONFLICT before any byte is read. */
  private async claim(client: PoolClient, ownerId: string, title: string, version: string): Promise<string> {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO firmwares (owner_id, title, version, size, sha256, md5) VALUES ($1, $2, $3, 1, '', '')
       ON CONFLICT (owner_id, title, version) DO NOTHING RETURNING id`,
      [ownerId, title, version],
    );
    if (!rows[0]) throw new AppError("CONFLICT", `Firmware "${title}" version "${version}" exists already`);
    return rows[0].id;
  }

  async list(ownerId: string): Promise<FirmwareRow[]> {
    const { rows } = await this.pool.query<FirmwareRow>(`SELECT ${COLUMNS} FROM firmwares WHERE owner_id = $1 ORDER BY created_at DESC, id`, [ownerId]);
    return rows;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, FirmwareRow>> {
    const { rows } = await this.pool.query<FirmwareRow>(`SELECT ${COLUMNS} FROM firmwares WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(rows.map((r) => [r.id, r]));
  }

  async requireOwned(ownerId: string, id: string): Promise<FirmwareRow> {
    if (!UUID_RE.test(id)) throw firmwareNotFound();
    const { rows } = await this.pool.query<FirmwareRow>(`SELECT ${COLUMNS} FROM firmwares WHERE id = $1 AND owner_id = $2`, [id, ownerId]);
    if (!rows[0]) throw firmwareNotFound();
    return rows[0];
  }

  /**
   * Refused (CONFLICT) while an open release uses it. Releases of it that ended go with it: their
   * devices' versions stay visible in Device.firmwareVersion.
   */
  async delete(ownerId: string, id: string): Promise<boolean> {
    const firmware = await this.requireOwned(ownerId, id);
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      // Locked against a release created meanwhile (its foreign key check waits for this lock).
      const locked = await client.query(`SELECT 1 FROM firmwares WHERE id = $1 FOR UPDATE`, [firmware.id]);
      if (locked.rowCount === 0) throw firmwareNotFound();
      const open = await client.query(`SELECT 1 FROM releases WHERE firmware_id = $1 AND status IN ('ACTIVE', 'PAUSED') LIMIT 1`, [firmware.id]);
      if (open.rowCount) throw new AppError("CONFLICT", "An active or paused release uses this firmware; cancel it first");
      await client.query(`DELETE FROM releases WHERE firmware_id = $1`, [firmware.id]);
      await client.query(`DELETE FROM firmwares WHERE id = $1`, [firmware.id]);
      await client.query("COMMIT");
      this.images.forget(firmware.id);
      return true;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Bytes start..end (inclusive) of an image, a slice at a time as the consumer asks for them. */
  async *read(firmwareId: string, start: number, end: number): AsyncGenerator<Buffer> {
    const image = await this.images.get(firmwareId);
    if (image && image.length > end) {
      for (let at = start; at <= end; at += SLICE_BYTES) yield image.subarray(at, Math.min(at + SLICE_BYTES, end + 1));
      return;
    }
    let at = start;
    while (at <= end) {
      const seq = Math.floor(at / CHUNK_BYTES);
      const offset = at - seq * CHUNK_BYTES;
      const length = Math.min(SLICE_BYTES, CHUNK_BYTES - offset, end - at + 1);
      const { rows } = await this.pool.query<{ d: Buffer }>(
        `SELECT substring(data FROM $3::int FOR $4::int) AS d FROM firmware_chunks WHERE firmware_id = $1 AND seq = $2`,
        [firmwareId, seq, offset + 1, length],
      );
      const slice = rows[0]?.d;
      if (!slice || slice.length === 0) throw new Error(`firmware ${firmwareId} is missing bytes at ${at}`);
      yield slice;
      at += slice.length;
    }
  }
}
