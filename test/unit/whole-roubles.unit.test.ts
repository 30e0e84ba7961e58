import { describe, expect, it } from 'vitest';
import { formatWholeRoubles } from '../../src/domain/money.ts';

/** The analytical report's whole roubles (issue 13): rounded half away from zero, grouped, no fraction. */
describe('formatWholeRoubles', () => {
  it('rounds kopecks to the nearest rouble, 50 kopecks up', () => {
    expect(formatWholeRoubles(123_449)).toBe('1\u00a0234');
    expect(formatWholeRoubles(123_450)).toBe('1\u00a0235');
    expect(formatWholeRoubles(49)).toBe('0');
    expect(formatWholeRoubles(-123_450)).toBe('-1\u00a0235');
    expect(formatWholeRoubles(-49)).toBe('0');
  });

  it('groups thousands by a no-break space in Russian and a comma in English', () => {
    expect(formatWholeRoubles(1_234_567_800, 'ru')).toBe('12\u00a0345\u00a0678');
    expect(formatWholeRoubles(1_234_567_800, 'en')).toBe('12,345,678');
    expect(formatWholeRoubles(null)).toBe('—');
  });
});
