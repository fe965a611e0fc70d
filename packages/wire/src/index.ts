/** Placeholder until this package is written (issue 2). */
export {};
