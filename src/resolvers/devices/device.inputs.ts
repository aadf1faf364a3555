import { Field, InputType, ObjectType, registerEnumType } from "type-graphql";
import { Device } from "../../entities/device.entity.js";
import { DateTimeScalar } from "../../schema/scalars.js";

export enum DeviceTransport {
  HTTP = "HTTP",
  MQTT = "MQTT",
}
registerEnumType(DeviceTransport, { name: "DeviceTransport", description: "How a device reaches the server" });

@ObjectType({ description: "How a device is attached: its transport, and whether it is connected since when" })
export class DeviceConnection {
  @Field(() => DeviceTransport, { description: "Transport of the last contact" })
  transport: DeviceTransport;

  @Field(() => Boolean, { description: "An MQTT session is open, or an HTTP device was heard within OFFLINE_TIMEOUT" })
  connected: boolean;

  @Field(() => DateTimeScalar, { nullable: true, description: "Start of the current connection (MQTT) or online period (HTTP); null while offline" })
  since: Date | null;
}

@InputType()
export class CreateDeviceInput {
  @Field(() => String)
  name: string;

  @Field(() => String, { nullable: true })
  type?: string | null;

  @Field(() => String, { nullable: true })
  location?: string | null;
}

@InputType()
export class UpdateDeviceInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  type?: string | null;

  @Field(() => String, { nullable: true })
  location?: string | null;
}

@ObjectType({ description: "The only time a device token is shown: store it in the device." })
export class DeviceWithToken {
  @Field(() => Device)
  device: Device;

  @Field(() => String)
  token: string;
}
