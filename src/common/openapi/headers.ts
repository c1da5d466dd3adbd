import { header } from './schemas.js';

/** Response headers of success responses. */
export const NO_STORE = { 'Cache-Control': header('CacheControlNoStore') };
export const NO_STORE_NO_CACHE = { 'Cache-Control': header('CacheControlNoStore'), Pragma: header('PragmaNoCache') };
