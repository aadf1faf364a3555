import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import { Notification } from "../../entities/notification.entity.js";
import { Topic } from "../../platform/event-bus.js";
import { liveStream } from "../../platform/live.js";
import { userIdOf, type GqlContext } from "../../schema/context.js";
import { NotificationConnection } from "./notification.inputs.js";

@Resolver(() => NotificationConnection)
export class NotificationResolver {
  @Authorized()
  @Query(() => NotificationConnection, { description: "Newest first; first: 1..100, default 20" })
  notifications(
    @Arg("unreadOnly", () => Boolean, { nullable: true }) unreadOnly: boolean | null | undefined,
    @Arg("first", () => Int, { nullable: true }) first: number | null | undefined,
    @Arg("after", () => String, { nullable: true }) after: string | null | undefined,
    @Ctx() ctx: GqlContext,
  ): Promise<NotificationConnection> {
    return ctx.services.notifications.page(userIdOf(ctx), { unreadOnly, first, after });
  }

  /** All of the caller's unread notifications, whatever the page; counted only when asked for. */
  @FieldResolver(() => Int)
  unreadCount(@Ctx() ctx: GqlContext): Promise<number> {
    return ctx.services.notifications.unreadCount(userIdOf(ctx));
  }

  @Authorized()
  @Mutation(() => Notification)
  markNotificationRead(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Notification> {
    return ctx.services.notifications.markRead(userIdOf(ctx), id);
  }

  @Authorized()
  @Mutation(() => Int, { description: "How many unread notifications became read" })
  markAllNotificationsRead(@Ctx() ctx: GqlContext): Promise<number> {
    return ctx.services.notifications.markAllRead(userIdOf(ctx));
  }

  @Authorized()
  @Mutation(() => Boolean)
  deleteNotification(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.notifications.delete(userIdOf(ctx), id);
  }
}

@Resolver()
export class NotificationEventsResolver {
  @Authorized()
  @Subscription(() => Notification, {
    description: "Notifications of the caller as they are stored",
    subscribe: ({ context }: SubscribeResolverData<unknown, object, GqlContext>) => {
      const userId = userIdOf(context);
      return liveStream(context.services.bus, Topic.NotificationAdded, {
        audience: userId,
        filter: (p) => p.userId === userId,
        map: (p) => Object.assign(new Notification(), { ...p.notification, ownerId: userId, readAt: null, createdAt: new Date(p.notification.createdAt) }),
      });
    },
  })
  notificationAdded(@Root() notification: Notification): Notification {
    return notification;
  }
}
