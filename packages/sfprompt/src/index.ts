// packages/sfprompt: public surface of this package.
export {};
