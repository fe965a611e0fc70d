// lossyNumberIn: the numbers of a JSON text that JSON.parse would change (integers beyond
// ±(2^53 − 1) that no double holds, numbers past the largest double), found outside strings only.
import t from 'tap';
import { lossyNumberIn, lossyNumberMessage } from '@shoal/api/json-numbers';

t.test('lossyNumberIn: a table', async (t) => {
  const cases: [string, string | undefined][] = [
    ['{"a":12345678901234567890}', '12345678901234567890'],
    ['9007199254740991', undefined], // 2^53 − 1: exact
    ['-9007199254740991', undefined],
    ['9007199254740993', '9007199254740993'], // 2^53 + 1: read as 2^53
    ['-9007199254740993', '-9007199254740993'],
    ['9007199254740992', undefined], // 2^53 itself is a double: stored as written
    ['100000000000000000000', undefined], // 10^20 too
    ['100000000000000000001', '100000000000000000001'],
    [`1${'0'.repeat(400)}`, `1${'0'.repeat(400)}`], // past the largest double
    ['"12345678901234567890"', undefined], // in a string
    ['["x\\"12345678901234567890", 1]', undefined], // an escaped quote does not end the string
    ['["\\\\", 12345678901234567890]', '12345678901234567890'], // an escaped backslash does
    ['{"12345678901234567890":1}', undefined], // a key
    ['1.2345678901234567890', undefined], // written as a float
    ['12345678901234567890e0', undefined],
    ['1e308', undefined],
    ['1e400', '1e400'],
    ['[0, -1E+400]', '-1E+400'],
    ['1e-400', undefined], // underflow to 0 is a float's rounding, not an overflow
    ['[1, 2, {"b": [3, 99999999999999999999]}]', '99999999999999999999'],
  ];
  for (const [text, want] of cases) {
    JSON.parse(text); // every case is JSON
    t.equal(lossyNumberIn(text)?.number, want, text);
  }
});

t.test('lossyNumberMessage: one sentence, a long number shortened', async (t) => {
  t.equal(lossyNumberMessage('VALUE', lossyNumberIn('12345678901234567890')!), 'VALUE holds the integer 12345678901234567890, which is beyond ±(2^53 − 1) and would lose precision; write it as a string');
  t.equal(lossyNumberMessage('the body', lossyNumberIn('9'.repeat(1000))!), `the body holds the integer ${'9'.repeat(40)}… (1000 characters), which is beyond ±(2^53 − 1) and would lose precision; write it as a string`);
});
