import assert from 'node:assert/strict';
import { histogramQuantile } from '../../../src/core/observe/histogram';

// Known values worked out by hand with Prometheus's bucketQuantile rules.
describe('histogramQuantile', () => {
  const buckets = [
    { le: 0.1, count: 10 },
    { le: 0.2, count: 30 },
    { le: 0.5, count: 90 },
    { le: 1, count: 100 },
    { le: Infinity, count: 100 },
  ];

  it('interpolates linearly inside the bucket that holds the rank', () => {
    assert.equal(histogramQuantile(0.5, buckets), 0.2 + 0.3 * (20 / 60)); // rank 50 in (0.2, 0.5]
    assert.ok(Math.abs(histogramQuantile(0.95, buckets) - (0.5 + 0.5 * (5 / 10))) < 1e-12); // rank 95 in (0.5, 1]
    assert.equal(histogramQuantile(0.05, buckets), 0.05); // first bucket starts at 0
    assert.equal(histogramQuantile(0.3, buckets), 0.2); // rank 30 is the top of (0.1, 0.2]
  });

  it('returns the highest finite bound when the rank falls into +Inf', () => {
    const tail = [
      { le: 0.5, count: 50 },
      { le: 1, count: 90 },
      { le: Infinity, count: 100 },
    ];
    assert.equal(histogramQuantile(0.99, tail), 1);
  });

  it('handles unsorted, duplicated and non-monotonic buckets like Prometheus', () => {
    const messy = [
      { le: Infinity, count: 100 },
      { le: 0.2, count: 30 },
      { le: 0.5, count: 29 }, // jitter from rate(): made monotonic (30)
      { le: 0.1, count: 10 },
      { le: 1, count: 100 },
    ];
    assert.equal(histogramQuantile(0.5, messy), 0.5 + 0.5 * (20 / 70));
    const dup = [
      { le: 1, count: 5 },
      { le: 1, count: 5 },
      { le: Infinity, count: 10 },
    ];
    assert.equal(histogramQuantile(0.5, dup), 0.5);
  });

  it('gives NaN without observations or without a +Inf bucket, ±Inf outside [0, 1]', () => {
    assert.ok(Number.isNaN(histogramQuantile(0.5, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])));
    assert.ok(Number.isNaN(histogramQuantile(0.5, [{ le: 1, count: 3 }, { le: 2, count: 4 }])));
    assert.ok(Number.isNaN(histogramQuantile(0.5, [])));
    assert.equal(histogramQuantile(-0.1, buckets), -Infinity);
    assert.equal(histogramQuantile(1.1, buckets), Infinity);
  });

  it('returns the first bound when it is not positive', () => {
    assert.equal(histogramQuantile(0.1, [{ le: -1, count: 5 }, { le: 1, count: 10 }, { le: Infinity, count: 10 }]), -1);
  });
});
