/** Shoal's version, as nodes report it (API, membership metadata). */
export const shoalVersion = '0.1.0';
