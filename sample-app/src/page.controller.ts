import { Controller, Get, Header } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Public } from 'nestjs-ezid';

const PUBLIC_DIR = join(__dirname, '..', 'public');
const read = (file: string) => readFileSync(join(PUBLIC_DIR, file), 'utf8');

/** The browser page: plain HTML and a little JS, no build step. */
@Controller()
export class PageController {
  private readonly html = read('index.html');
  private readonly js = read('app.js');
  private readonly css = read('style.css');

  @Public()
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
  )
  index() {
    return this.html;
  }

  @Public()
  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script() {
    return this.js;
  }

  @Public()
  @Get('style.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  style() {
    return this.css;
  }
}
