import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Asset routes of the GraphQL IDE (all served locally: the IDE must work with no internet). */
export function ideRoutes(_app: FastifyInstance): void {}

/** GET /graphql from a browser (Accept: text/html): the IDE page. */
export async function serveIde(_request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  return reply.status(404).send({ detail: "The GraphQL IDE is not built yet" });
}
