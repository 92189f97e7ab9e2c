export * from './interaction-state';
