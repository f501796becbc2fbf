import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { EzidEmulator } from 'nestjs-ezid/testing';
import { AppModule } from './app.module';
import { sampleAppConfig } from './ezid-env';
import { setupSwagger } from './swagger';

export interface RunningSampleApp {
  app: INestApplication;
  url: string;
  emulator?: EzidEmulator;
  close(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the sample app. With no EZID_* variables it embeds the EZiD emulator (seeded with two tenants:
 * the demo user is Admin in org1 and Member in org2), on loopback and outside production only; with any
 * of them set it talks to that EZiD and needs all of them and PUBLIC_URL (see `sampleAppConfig`).
 */
export async function startSampleApp(env: NodeJS.ProcessEnv = process.env): Promise<RunningSampleApp> {
  const config = sampleAppConfig(env);
  const host = config.host;
  const port = config.port || (await freePort(host));
  const publicUrl = config.publicUrl ?? `http://localhost:${port}`;
  let emulator: EzidEmulator | undefined;
  if (config.mode === 'emulator') {
    const clientSecret = randomBytes(24).toString('hex');
    emulator = await EzidEmulator.start({ clientId: 'cli_sample_app', clientSecret });
    Object.assign(process.env, {
      EZID_CLIENT_ID: 'cli_sample_app',
      EZID_CLIENT_SECRET: clientSecret,
      EZID_API_URL: emulator.url,
      EZID_JWKS_URI: emulator.jwksUri,
      EZID_ISSUER: emulator.issuer,
    });
  }
  const app = await NestFactory.create(AppModule.register({ publicUrl, emulator }), {
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  setupSwagger(app);
  await app.listen(port, host);
  return {
    app,
    url: publicUrl,
    emulator,
    async close() {
      await app.close();
      await emulator?.stop();
    },
  };
}

/** Entry point of `npm start`. */
export async function main(): Promise<void> {
  const running = await startSampleApp();
  const idp = running.emulator
    ? `embedded EZiD emulator at ${running.emulator.url} (sign in as demo@example.com; links appear in the page's dev inbox)`
    : `EZiD at ${process.env.EZID_API_URL}`;
  process.stdout.write(
    `\nnestjs-ezid sample app listening on ${running.url}/\nIdentity provider: ${idp}\n\n`,
  );
  const stop = () => {
    running.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
