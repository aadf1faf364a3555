import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { Device } from "../../entities/device.entity.js";
import type { JsonValue } from "../../platform/json.js";
import { Schedule } from "../../entities/schedule.entity.js";
import { Widget } from "../../entities/widget.entity.js";
import { loaderOf, userIdOf, type GqlContext } from "../../schema/context.js";
import { RateLimited } from "../../schema/rate-limit.js";
import { JSONScalar } from "../../schema/scalars.js";
import { isOutput } from "../../services/dashboards/widget.rules.js";
import { CreateWidgetInput, UpdateWidgetInput } from "./dashboard.inputs.js";
import type { DeviceStateData } from "../../services/telemetry/device-state.model.js";
import { deviceOfWidget, forgetWidgets, settleState, stateOfWidget } from "./dashboard-tree.js";

/** Widgets by id, only the caller's: anything else loads as null. */
function widgetLoader(ctx: GqlContext) {
  const owner = userIdOf(ctx);
  return loaderOf<string, Widget | null>(ctx, "widget", async (ids) => {
    const found = await ctx.services.widgets.findOwned(owner, ids);
    return ids.map((id) => found.get(id.toLowerCase()) ?? null);
  });
}

function nextScheduleLoader(ctx: GqlContext) {
  const owner = userIdOf(ctx);
  return loaderOf<string, Schedule | null>(ctx, "nextSchedule", async (ids) => {
    const found = await ctx.services.schedules.nextOf(owner, ids);
    return ids.map((id) => found.get(id) ?? null);
  });
}

/** What a widget shows of its device's state. */
function valueOf(widget: Widget, state: DeviceStateData): JsonValue {
  if (widget.virtualPin) return state.desired[widget.virtualPin]?.value ?? state.reported[widget.virtualPin] ?? null;
  return widget.key ? (state.reported[widget.key] ?? null) : null;
}

const perUser = (_args: Record<string, unknown>, ctx: GqlContext) => `user:${userIdOf(ctx)}`;

@Resolver(() => Widget)
export class WidgetResolver {
  @Authorized()
  @Query(() => Widget, { nullable: true, description: "null when missing or not the caller's" })
  widget(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<Widget | null> {
    return widgetLoader(ctx).load(id);
  }

  @Authorized()
  @Mutation(() => Widget, { description: "led widgets get the device's lowest free vN when no virtualPin is given" })
  async createWidget(@Arg("input", () => CreateWidgetInput) input: CreateWidgetInput, @Ctx() ctx: GqlContext): Promise<Widget> {
    const widget = await ctx.services.widgets.create(userIdOf(ctx), input);
    forgetWidgets(ctx, widget.dashboardId);
    return widget;
  }

  @Authorized()
  @Mutation(() => Widget)
  updateWidget(@Arg("id", () => ID) id: string, @Arg("input", () => UpdateWidgetInput) input: UpdateWidgetInput, @Ctx() ctx: GqlContext): Promise<Widget> {
    return ctx.services.widgets.update(userIdOf(ctx), id, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Deletes the widget with its schedules" })
  deleteWidget(@Arg("id", () => ID) id: string, @Ctx() ctx: GqlContext): Promise<boolean> {
    return ctx.services.widgets.delete(userIdOf(ctx), id);
  }

  @Authorized()
  @Mutation(() => Widget, {
    description: 'The app\'s switch: 0, 1, true or false ("0"/"1" too) becomes the pin\'s desired 0/1, picked up on the device\'s next poll',
  })
  @RateLimited({ max: 120, windowSeconds: 60, by: perUser })
  async setWidgetState(@Arg("id", () => ID) id: string, @Arg("state", () => JSONScalar) state: JsonValue, @Ctx() ctx: GqlContext): Promise<Widget> {
    const command = await ctx.services.widgets.setState(userIdOf(ctx), id, state);
    // The answer shows the state after the command, even if this request loaded it before.
    settleState(ctx, command.state);
    return command.widget;
  }

  @FieldResolver(() => Device, { nullable: true })
  device(@Root() widget: Widget, @Ctx() ctx: GqlContext): Device | Promise<Device | null> | null {
    return widget.deviceId ? deviceOfWidget(ctx, widget.deviceId) : null;
  }

  @FieldResolver(() => JSONScalar, {
    nullable: true,
    description: "display widgets: the device's latest reported value of key; led: the pin's merged value (what the device is asked to hold)",
  })
  value(@Root() widget: Widget, @Ctx() ctx: GqlContext): JsonValue | Promise<JsonValue> {
    if (!widget.deviceId) return null;
    const state = stateOfWidget(ctx, widget.deviceId);
    return state instanceof Promise ? state.then((s) => valueOf(widget, s)) : valueOf(widget, state);
  }

  @FieldResolver(() => Boolean, { description: "true while the device has not confirmed the widget's pin" })
  pending(@Root() widget: Widget, @Ctx() ctx: GqlContext): boolean | Promise<boolean> {
    if (!isOutput(widget.type) || !widget.deviceId || !widget.virtualPin) return false;
    const pin = widget.virtualPin;
    const state = stateOfWidget(ctx, widget.deviceId);
    return state instanceof Promise ? state.then((s) => pin in s.desired) : pin in state.desired;
  }

  @FieldResolver(() => Schedule, { nullable: true, description: "the earliest pending schedule or timer" })
  nextSchedule(@Root() widget: Widget, @Ctx() ctx: GqlContext): Promise<Schedule | null> | null {
    return isOutput(widget.type) ? nextScheduleLoader(ctx).load(widget.id) : null;
  }
}

/** Device.widgets: the widgets bound to a device (type-graphql merges this into Device). */
@Resolver(() => Device)
export class DeviceWidgetsResolver {
  @FieldResolver(() => [Widget])
  widgets(@Root() device: Device, @Ctx() ctx: GqlContext): Promise<Widget[]> {
    const owner = userIdOf(ctx);
    return loaderOf<string, Widget[]>(ctx, "widgetsByDevice", async (ids) => {
      const found = await ctx.services.widgets.byDevices(owner, ids);
      return ids.map((id) => found.get(id) ?? []);
    }).load(device.id);
  }
}
