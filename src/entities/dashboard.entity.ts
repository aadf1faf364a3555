import { Column, Entity, Index } from "typeorm";
import { Field, ObjectType } from "type-graphql";
import { BaseEntity } from "./base.entity.js";

/** A user's page of widgets. Its widgets and their counts are field resolvers (loaded per request). */
@ObjectType()
@Entity({ name: "dashboards" })
export class Dashboard extends BaseEntity {
  @Index()
  @Column({ type: "uuid", name: "owner_id" })
  ownerId: string;

  @Field(() => String)
  @Column({ type: "text" })
  name: string;

  @Field(() => String, { nullable: true })
  @Column({ type: "text", nullable: true })
  description: string | null;
}
