/** @file Test helpers for any lib's vitest suite: importing this registers `toBeAllClose`; gradCheck checks custom graphs. */
import './all-close';

export { compareAllClose, type CloseOptions, type CloseReport } from './all-close';
export { gradCheck, type GradCheckOptions, type GradCheckResult } from './grad-check';
