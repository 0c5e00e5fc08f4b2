import { describe, expect, it } from 'vitest';
import { hrefFor, parseRoute } from './router.ts';

describe('routes', () => {
  it('maps paths to pages and back', () => {
    expect(parseRoute('/')).toEqual({ page: 'list' });
    expect(parseRoute('/notebooks/nb_abc/')).toEqual({ page: 'notebook', id: 'nb_abc' });
    expect(parseRoute('/notebooks/../etc')).toEqual({ page: 'not_found', path: '/notebooks/../etc' });
    expect(hrefFor({ page: 'notebook', id: 'nb_1' })).toBe('/notebooks/nb_1');
  });
});
