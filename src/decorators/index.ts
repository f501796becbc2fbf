// Public exports of the decorators area.
export {};
