import { Field, ID, InputType, Int } from "type-graphql";

@InputType()
export class CreateReleaseInput {
  @Field(() => ID, { description: "one of the caller's firmware images" })
  firmwareId: string;

  @Field(() => [ID], { description: "the caller's devices (at most 10000); none may be in another active or paused release" })
  deviceIds: string[];

  @Field(() => Int, { nullable: true, description: "percent of the devices offered first, 1-100 (default 100); the rest follow as these succeed" })
  rolloutPercent?: number | null;

  @Field(() => Int, { nullable: true, description: "offers per minute at most (default 60)" })
  maxPerMinute?: number | null;

  @Field(() => Int, { nullable: true, description: "abort when this percent of the finished devices failed, 1-100 (default 20)" })
  abortFailurePercent?: number | null;

  @Field(() => Int, { nullable: true, description: "finished devices needed before the abort threshold applies (default 1)" })
  minFinished?: number | null;
}
