// Whether a path names DVC's pipeline file. Alone in its module so that choosing a loader loads neither.
export const isDvcFile = (path: string) => /(^|[\\/])dvc\.yaml$/.test(path);
