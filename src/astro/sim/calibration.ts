// The simulated sky's per-band instrument model, measured on the real DR12 frame 2583-2-136
// (Stripe 82, 2001-09-20) with src/astro/calibration.ts; bench/astro/calibrate.ts regenerates the
// figures and test/astro/sim-calibration.test.ts checks these constants against the frame.
import type { Band } from '../sdss-frame.js';

export interface BandCalibration {
  /** Nanomaggies per count (header NMGY). */
  readonly nmgy: number;
  /** Mean sky in counts per pixel (the frame's sky grid). */
  readonly skyCounts: number;
  /** White pixel noise of the sky-subtracted frame, nanomaggies (adjacent-pixel differences). */
  readonly noiseNmgy: number;
  /** Electrons per count (photoField GAIN): sets the source Poisson noise. */
  readonly gain: number;
  /** PSF FWHM in arcsec (adaptive second moments of the frame's stars). */
  readonly psfFwhmArcsec: number;
  /** Exposure time in seconds. */
  readonly exptime: number;
}

export const SDSS_CALIBRATION: Readonly<Record<Band, BandCalibration>> = {
  u: { nmgy: 0.0118724, skyCounts: 23.37, noiseNmgy: 0.0609, gain: 1.825, psfFwhmArcsec: 1.39, exptime: 53.907456 },
  g: { nmgy: 0.00446688, skyCounts: 80.84, noiseNmgy: 0.02634, gain: 3.855, psfFwhmArcsec: 1.18, exptime: 53.907456 },
  r: { nmgy: 0.00546689, skyCounts: 149.14, noiseNmgy: 0.03942, gain: 4.6, psfFwhmArcsec: 0.94, exptime: 53.907456 },
  i: { nmgy: 0.0065592, skyCounts: 216.15, noiseNmgy: 0.06368, gain: 5.195, psfFwhmArcsec: 0.93, exptime: 53.907456 },
  z: { nmgy: 0.038566, skyCounts: 140.78, noiseNmgy: 0.2385, gain: 5.155, psfFwhmArcsec: 1.04, exptime: 53.907456 },
};
