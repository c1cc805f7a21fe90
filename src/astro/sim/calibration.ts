// The simulated sky's per-band instrument model, measured on the real DR12 frame 2583-2-136
// (Stripe 82, 2001-09-20) with src/astro/calibration.ts in the columns >= 1280, away from the
// globular cluster M2 that fills the rest of that field; bench/astro/calibrate.ts regenerates the
// figures and test/astro/calibration.test.ts checks these constants against the frame.
import type { Band } from '../sdss-frame.js';

export interface BandCalibration {
  /** Nanomaggies per count (header NMGY). */
  readonly nmgy: number;
  /** Mean sky in counts per pixel (the frame's sky grid). */
  readonly skyCounts: number;
  /** Pixel noise of the sky-subtracted frame on empty sky, nanomaggies (robust MAD). */
  readonly noiseNmgy: number;
  /** Electrons per count (photoField GAIN): sets the source Poisson noise. */
  readonly gain: number;
  /** PSF FWHM in arcsec (adaptive second moments of the frame's stars). */
  readonly psfFwhmArcsec: number;
  /** Exposure time in seconds. */
  readonly exptime: number;
}

export const SDSS_CALIBRATION: Readonly<Record<Band, BandCalibration>> = {
  u: { nmgy: 0.0118724, skyCounts: 23.4, noiseNmgy: 0.05155, gain: 1.825, psfFwhmArcsec: 1.41, exptime: 53.907456 },
  g: { nmgy: 0.00446688, skyCounts: 80.8, noiseNmgy: 0.01947, gain: 3.855, psfFwhmArcsec: 1.13, exptime: 53.907456 },
  r: { nmgy: 0.00546689, skyCounts: 149.1, noiseNmgy: 0.0321, gain: 4.6, psfFwhmArcsec: 0.89, exptime: 53.907456 },
  i: { nmgy: 0.0065592, skyCounts: 216.1, noiseNmgy: 0.05521, gain: 5.195, psfFwhmArcsec: 0.9, exptime: 53.907456 },
  z: { nmgy: 0.038566, skyCounts: 140.8, noiseNmgy: 0.21102, gain: 5.155, psfFwhmArcsec: 1.03, exptime: 53.907456 },
};
