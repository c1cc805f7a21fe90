// The font every drawn figure names: svg-png.ts loads it into the rasteriser, and an SVG written as
// is (a run's timeline) names it first, so this constant does not load the rasteriser.
export const FONT_FAMILY = 'DejaVu Sans';
