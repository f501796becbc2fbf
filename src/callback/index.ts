// Public exports of the callback area.
export {};
