// Public exports of the decorators area.
export { Public } from './public.decorator';
export { OptionalAuth } from './optional-auth.decorator';
