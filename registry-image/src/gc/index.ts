/** Online garbage collection: the collector, its scheduler and the guard handlers share with it. */
export { collectGarbage, gcOptionsFrom, type GcOptions } from './collector';
export { createGcScheduler, startGcScheduler, type GcScheduler } from './scheduler';
export { referenceGuard, ReferenceGuard } from './guard';
export { describeRemoval, summarise, type GcReport, type GcRemoval } from './report';
