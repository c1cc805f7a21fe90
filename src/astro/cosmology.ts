// Flat LambdaCDM distances and densities, H0 = 70 km/s/Mpc, Omega_m = 0.3: the cosmology in which
// MCXC and PSZ2 quote M500, so labels, simulated clusters and cutout sizes all share it.
export interface Cosmology {
  readonly h0: number; // km/s/Mpc
  readonly omegaM: number;
}

export const DEFAULT_COSMOLOGY: Cosmology = { h0: 70, omegaM: 0.3 };
const C_KM_S = 299792.458;
/** Critical density today for H0 = 100 h: 2.775e11 h^2 Msun / Mpc^3. */
const RHO_CRIT_100 = 2.77536627e11;

export function efunc(z: number, c: Cosmology = DEFAULT_COSMOLOGY): number {
  return Math.sqrt(c.omegaM * (1 + z) ** 3 + (1 - c.omegaM));
}

/** Line-of-sight comoving distance in Mpc (Simpson's rule; 1e-6 relative accuracy to z = 2). */
export function comovingDistance(z: number, c: Cosmology = DEFAULT_COSMOLOGY): number {
  if (z <= 0) return 0;
  const n = 64;
  const h = z / n;
  let s = 1 / efunc(0, c) + 1 / efunc(z, c);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) / efunc(i * h, c);
  return (C_KM_S / c.h0) * (s * h) / 3;
}

export function angularDiameterDistance(z: number, c: Cosmology = DEFAULT_COSMOLOGY): number {
  return comovingDistance(z, c) / (1 + z);
}

export function luminosityDistance(z: number, c: Cosmology = DEFAULT_COSMOLOGY): number {
  return comovingDistance(z, c) * (1 + z);
}

/** Distance modulus m - M. */
export function distanceModulus(z: number, c: Cosmology = DEFAULT_COSMOLOGY): number {
  return 5 * Math.log10(luminosityDistance(z, c) * 1e6 / 10);
}

/** Critical density at z in Msun / Mpc^3. */
export function rhoCrit(z: number, c: Cosmology = DEFAULT_COSMOLOGY): number {
  const h = c.h0 / 100;
  return RHO_CRIT_100 * h * h * efunc(z, c) ** 2;
}

/** R500 in Mpc for M500 in Msun: the radius enclosing 500 times the critical density. */
export function r500Mpc(m500: number, z: number, c: Cosmology = DEFAULT_COSMOLOGY): number {
  return Math.cbrt((3 * m500) / (4 * Math.PI * 500 * rhoCrit(z, c)));
}

/** Angle in degrees subtended by a proper length in Mpc at redshift z. */
export function mpcToDeg(mpc: number, z: number, c: Cosmology = DEFAULT_COSMOLOGY): number {
  return (mpc / angularDiameterDistance(z, c)) * (180 / Math.PI);
}
