import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** The start command exactly as the README's "two commands" table gives it (after `npm ci &&`). */
function readmeStartCommand(): string[] {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const row = readme.split('\n').find((line) => /^\| Run the sample app \|/.test(line));
  const match = row?.match(/`npm ci && (npm [a-z:]+)`/);
  if (!match) throw new Error('README has no "Run the sample app" row with `npm ci && npm ...`');
  return match[1].split(' ');
}

describe("the README's sample-app command", () => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null && child.pid) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM'); // npm and the app it started: the whole process group
      await exited;
    }
  });

  it('starts the app with the embedded emulator, prints its URL, and the page loads', async () => {
    const [cmd, ...args] = readmeStartCommand();
    expect([cmd, ...args]).toEqual(['npm', 'start']);
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
    for (const name of Object.keys(env)) if (name.startsWith('EZID_')) delete env[name];
    child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed within 90 s:\n${output}`)), 90_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = output.match(/listening on (http:\/\/\S+?)\/?\s/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].replace('//localhost:', '//127.0.0.1:')); // the app listens on 127.0.0.1
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      child!.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    });
    expect(output).toMatch(/embedded EZiD emulator/);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>nestjs-ezid sample app</title>');
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      details: { ezid: { status: 'up', jwks: { state: 'fresh', lastFetch: 'ok' } } },
    });
    const guarded = await fetch(`${url}/orgs/x/projects`);
    expect(guarded.status).toBe(401);
    // Swagger UI, with the security requirements the guards enforce.
    expect((await fetch(`${url}/docs`)).status).toBe(200);
    const docs = (await (await fetch(`${url}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown; 'x-ezid'?: unknown }>>;
    };
    expect(docs.paths['/health'].get.security).toEqual([]);
    expect(docs.paths['/orgs/{tenantId}/projects'].get.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    expect(docs.paths['/orgs/{tenantId}/settings'].get['x-ezid']).toMatchObject({
      roles: [{ names: ['Admin'], match: 'any' }],
      tenant: { in: 'path', name: 'tenantId', required: true },
    });
  }, 150_000);

  it('refuses to embed the emulator with NODE_ENV=production on 0.0.0.0: exits 1 with the reason', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '0' };
    for (const name of Object.keys(env)) if (name.startsWith('EZID_')) delete env[name];
    child = spawn(process.execPath, ['sample-app/start.js'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const code = await new Promise<number | null | 'listening'>((resolve) => {
      const onData = (c: Buffer) => {
        output += c.toString();
        if (/listening on/.test(output)) resolve('listening');
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', resolve);
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /The sample app could not start: Refusing to embed the EZiD emulator with NODE_ENV=production/,
    );
    expect(output).not.toMatch(/listening on/);
  }, 150_000);
});
