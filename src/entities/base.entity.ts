import { CreateDateColumn, PrimaryGeneratedColumn, UpdateDateColumn } from "typeorm";
import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../schema/scalars.js";

/** Shared identity and timestamps of every stored object, in the database and in the API. */
@ObjectType()
export abstract class BaseEntity {
  @Field(() => ID)
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Field(() => DateTimeScalar)
  @CreateDateColumn({ type: "timestamptz", name: "created_at" })
  createdAt: Date;

  @Field(() => DateTimeScalar)
  @UpdateDateColumn({ type: "timestamptz", name: "updated_at" })
  updatedAt: Date;
}
