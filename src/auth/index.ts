// Public exports of the auth area.
export {};
