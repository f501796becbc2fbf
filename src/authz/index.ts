// Public exports of the authz area.
export {};
