import type { LoggerService } from '@nestjs/common';

/** A Nest logger that records every line (all levels, debug included) for log-hygiene assertions. */
export class CaptureLogger implements LoggerService {
  readonly lines: string[] = [];
  private push(level: string, message: unknown, rest: unknown[]): void {
    this.lines.push(`${level} ${JSON.stringify([message, ...rest])}`);
  }
  log(m: unknown, ...r: unknown[]): void {
    this.push('log', m, r);
  }
  error(m: unknown, ...r: unknown[]): void {
    this.push('error', m, r);
  }
  warn(m: unknown, ...r: unknown[]): void {
    this.push('warn', m, r);
  }
  debug(m: unknown, ...r: unknown[]): void {
    this.push('debug', m, r);
  }
  verbose(m: unknown, ...r: unknown[]): void {
    this.push('verbose', m, r);
  }
}
