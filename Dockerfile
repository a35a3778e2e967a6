# The Ferry agent as a container image: docker build -t ferry:0.1.0 .
# deploy/kubernetes/ runs it in a cluster.

# Build: TypeScript and the dashboard need the dev dependencies.
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

# Runtime dependencies only (better-sqlite3 is native: install it on the same base).
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
# git: Ferry fetches repositories with the git CLI. Kustomize sources need
# kustomize or kubectl on PATH and Helm charts need helm; add them here
# (COPY --from an image that ships them) when your repositories use them.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/dashboard ./dist/dashboard
COPY package.json ./
COPY schemas ./schemas
# A user without a login and without rights outside its state directory.
RUN groupadd --system --gid 10001 ferry \
  && useradd --system --uid 10001 --gid ferry --home-dir /var/lib/ferry --shell /usr/sbin/nologin ferry \
  && mkdir -p /var/lib/ferry && chown ferry:ferry /var/lib/ferry
USER 10001:10001
ENV FERRY_STATE_DIR=/var/lib/ferry NODE_ENV=production
VOLUME /var/lib/ferry
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
