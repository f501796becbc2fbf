// nestjs-ezid/testing: the EZiD emulator for tests and offline development.
export {};
