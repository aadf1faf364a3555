# syntax=docker/dockerfile:1
# The ThingsNXT server. `docker compose up` (compose.yaml) runs it with PostgreSQL 16 and Redis 7;
# docs/deploy.md covers proxies, TLS and backups. Alone:
#   docker build -t thingsnxt . && docker run -p 8000:8000 -e DATABASE_URL=postgres://... thingsnxt
# Without DATABASE_URL the embedded PostgreSQL keeps its data in /data: mount a volume there.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# tsx, the TypeScript loader `npm start` runs under, is a runtime dependency: dev dependencies stay out.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=8000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY rest-compat ./rest-compat
# The code stays root's and read-only to the server; only the embedded database's folder is its own.
RUN mkdir -p /data && chown node:node /data
USER node
# HTTP (PORT), and the built-in MQTT device endpoint (MQTT_PORT, docs/mqtt.md).
EXPOSE 8000 1883
# /health/live: a database outage must not get the container restarted (/health/ready is for load
# balancers). No curl in the slim image, so node asks; with TLS on, it accepts the certificate of
# the name the server was issued for on 127.0.0.1.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const s=process.env.TLS_CERT_FILE?require('node:https'):require('node:http');s.get({host:'127.0.0.1',port:process.env.PORT||8000,path:'/health/live',timeout:3000,rejectUnauthorized:false},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
# `npm start` without npm in between: the server itself gets SIGTERM (it drains) and SIGHUP (TLS reload).
CMD ["node", "--enable-source-maps", "--import", "tsx", "src/main.ts"]
