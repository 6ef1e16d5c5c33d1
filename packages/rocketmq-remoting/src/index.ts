export * from './acl.js';
export * from './codes.js';
export * from './command.js';
export * from './message.js';
export * from './route.js';
