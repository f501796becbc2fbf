// A real redis-server for the suites that need one: started on a free loopback port in its own temp
// dir (no persistence), killed after. Readiness is the server's own "Ready to accept connections"
// line, never a delay. Without redis-server on PATH the suites skip with a message, except in CI
// (CI=true), where that is a failure: .ci/system-packages.sh installs it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../callback/callback-test-app';

function redisServerPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const BIN = redisServerPath();
if (!BIN && process.env.CI) {
  throw new Error('redis-server is not on PATH: CI must install it (.ci/system-packages.sh)');
}

/** `describe` when redis-server is available, else `describe.skip` with a message saying why. */
export const describeWithRedis: jest.Describe = BIN
  ? describe
  : (() => {
      console.warn('redis-server is not on PATH: the Redis suites are skipped (install redis-server)');
      return describe.skip;
    })();

export class RedisServer {
  private proc?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** Starts a server on a free port of 127.0.0.1. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'ezid-redis-')));
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** `SIGKILL`s the server (no shutdown, no goodbye to clients) and waits for it to be gone. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  }

  /** `SIGSTOP`s the server: connections stay open, nothing is answered (a hung peer). */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** `SIGCONT`s a paused server. */
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Starts the server again on the same port, empty (it has no persistence). */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private launch(): Promise<void> {
    const p = spawn(
      BIN!,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = p;
    return new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          p.stdout!.off('data', onData);
          p.stdout!.resume();
          resolve();
        }
      };
      p.stdout!.on('data', onData);
      p.stderr!.resume();
      p.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
    });
  }
}
