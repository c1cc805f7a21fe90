// `massflow/stage`: what a TS stage module in any project imports. The stage contract, and TypeBox's
// `Type` for its params schema so that a project needs no dependency of its own to write a stage.
export { defineStage, type StageContext, type StageDefinition } from './define.js';
export { Type, type Static, type TSchema } from '@sinclair/typebox';
