// Tables added by this area's migration; merged into `Database` in tables.ts.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DownloadTables {}
