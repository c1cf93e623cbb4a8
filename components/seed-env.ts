// TODO(seed): replace with `export { SEED_ENV } from 'perch/seed'` when registry-image/src/seed lands.
export const SEED_ENV = { username: 'PERCH_SEED_USERNAME', password: 'PERCH_SEED_PASSWORD' } as const;
