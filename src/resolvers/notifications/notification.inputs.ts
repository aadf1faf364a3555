import { Field, ObjectType } from "type-graphql";
import { Notification } from "../../entities/notification.entity.js";

@ObjectType()
export class NotificationEdge {
  @Field(() => String, { description: "Pass as `after` to get the notifications older than this one" })
  cursor: string;

  @Field(() => Notification)
  node: Notification;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage: boolean;

  @Field(() => String, { nullable: true, description: "Cursor of the last edge; null on an empty page" })
  endCursor: string | null;
}

@ObjectType({ description: "Newest first" })
export class NotificationConnection {
  @Field(() => [NotificationEdge])
  edges: NotificationEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}
