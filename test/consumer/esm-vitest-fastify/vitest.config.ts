// Vite's default transform drops decorator metadata, which Nest's dependency injection reads:
// unplugin-swc compiles the TypeScript with legacy decorators and emitDecoratorMetadata instead.
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: { globals: true, include: ['test/**/*.e2e-spec.ts'] },
});
