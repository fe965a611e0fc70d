/**
 * Time constants with nact's names, so `shutdownAfter: 10 * minutes` reads the same. Every
 * duration in this package is in milliseconds.
 */
export const milliseconds = 1;
export const millisecond = milliseconds;
export const seconds = 1000 * milliseconds;
export const second = seconds;
export const minutes = 60 * seconds;
export const minute = minutes;
export const hours = 60 * minutes;
export const hour = hours;
export const messages = 1;
export const message = messages;
