export * from './ezid-audit.types';
