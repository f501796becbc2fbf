// Public exports of the client area.
export {};
