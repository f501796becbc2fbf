export { EzidContext } from './ezid-context';
