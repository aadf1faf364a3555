import { Field, InputType, ObjectType } from "type-graphql";
import { Device } from "../../entities/device.entity.js";

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
