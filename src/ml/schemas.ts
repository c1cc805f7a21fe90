// Param schemas of the ML stages (TypeBox: one source for validation and types). Fields a pipeline
// may leave out are optional here and get the defaults below, which are sized so the default
// pipeline (600 simulated clusters, 64 px, 5 bands) trains in minutes on two cores.
import { Type, type Static } from '@sinclair/typebox';
import { NORMALISATIONS } from './normalise.js';

const Positive = (o: object = {}) => Type.Number({ exclusiveMinimum: 0, ...o });
const Count = (o: object = {}) => Type.Integer({ minimum: 1, ...o });

export const PretrainParams = Type.Object({
  epochs: Count(),
  batch: Count(),
  lr: Positive(),
  seed: Type.Integer(),
  /** Stem channels of network 1 (later stages 2x, 4x). */
  width: Type.Optional(Count()),
  /** Channels per band handed to network 2. */
  featureChannels: Type.Optional(Count()),
  normalisation: Type.Optional(Type.Union(NORMALISATIONS.map((n) => Type.Literal(n)))),
  augment: Type.Optional(Type.Boolean()),
  valFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5 })),
}, { additionalProperties: false });
export type PretrainParams = Static<typeof PretrainParams>;
export const PRETRAIN_DEFAULTS = { width: 16, featureChannels: 16, normalisation: 'band', augment: true, valFraction: 0.1 } as const;

export const FitParams = Type.Object({
  epochs: Count(),
  lr: Positive(),
  batch: Count(),
  /** Epochs without a better validation MAE before stopping; 0 disables early stopping. */
  patience: Type.Integer({ minimum: 0 }),
  seed: Type.Optional(Type.Integer()),
  hidden: Type.Optional(Count()),
  augment: Type.Optional(Type.Boolean()),
  valFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 0.5 })),
}, { additionalProperties: false });
export type FitParams = Static<typeof FitParams>;
export const FIT_DEFAULTS = { seed: 1, hidden: 32, augment: true, valFraction: 0.15 } as const;

export const CvParams = Type.Object({
  folds: Type.Integer({ minimum: 2 }),
  seed: Type.Integer(),
}, { additionalProperties: false });
export type CvParams = Static<typeof CvParams>;

/** How network 2 is trained: from scratch (the paper), from the pretext network, or with log richness as an input. */
export const MASS_VARIANTS = ['paper', 'pretext', 'hybrid'] as const;
export type MassVariant = (typeof MASS_VARIANTS)[number];

/** Which variants of network 2 are trained and scored side by side (fit-mass's foreach, cross-validate). */
export const CompareParams = Type.Object({
  variants: Type.Array(Type.Union(MASS_VARIANTS.map((v) => Type.Literal(v))), { minItems: 1, uniqueItems: true }),
}, { additionalProperties: false });
export type CompareParams = Static<typeof CompareParams>;

export const ExplainParams = Type.Object({
  /** How many best- and how many worst-predicted clusters to explain. */
  clusters: Count(),
  /** Integrated-gradients quadrature points. */
  steps: Count(),
  /** Interpolated images per gradient call. */
  batch: Type.Optional(Count()),
}, { additionalProperties: false });
export type ExplainParams = Static<typeof ExplainParams>;
export const EXPLAIN_DEFAULTS = { batch: 16 } as const;

export const FeaturesParams = Type.Object({
  /**
   * Bands whose network-1 features network 2 sees (a subset of the cutout bands, stored in the
   * cutouts' band order); all cutout bands when omitted.
   */
  bands: Type.Optional(Type.Array(Type.String())),
}, { additionalProperties: false });
export type FeaturesParams = Static<typeof FeaturesParams>;
