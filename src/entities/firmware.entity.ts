import { Column, Entity } from "typeorm";
import { Field, Int, ObjectType } from "type-graphql";
import { BaseEntity } from "./base.entity.js";

/** An uploaded firmware image of the user's (its bytes are in firmware_chunks, see docs/ota.md). */
@ObjectType()
@Entity({ name: "firmwares" })
export class Firmware extends BaseEntity {
  @Column({ type: "uuid", name: "owner_id" })
  ownerId: string;

  @Field(() => String)
  @Column({ type: "text" })
  title: string;

  @Field(() => String, { description: "the version the image's app descriptor carries (when it has one)" })
  @Column({ type: "text" })
  version: string;

  @Field(() => Int, { description: "bytes" })
  @Column({ type: "integer" })
  size: number;

  @Field(() => String, { description: "SHA-256 of the image, hex" })
  @Column({ type: "text" })
  sha256: string;

  @Field(() => String, { description: "MD5 of the image, hex (what Arduino-ESP32's HTTPUpdate checks)" })
  @Column({ type: "text" })
  md5: string;
}
