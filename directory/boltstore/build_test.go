package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// modelBucket is what a bbolt bucket should hold: values and nested
// buckets by key, and its sequence.
type modelBucket struct {
	seq    uint64
	values map[string][]byte
	nested map[string]*modelBucket
}

func newModelBucket() *modelBucket {
	return &modelBucket{values: map[string][]byte{}, nested: map[string]*modelBucket{}}
}

func (m *modelBucket) keys() []string {
	var ks []string
	for k := range m.values {
		ks = append(ks, k)
	}
	for k := range m.nested {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// randomModel returns a root bucket of top-level buckets with random
// content: nested and empty buckets, empty values, values of several
// pages, long keys, and a bucket of n keys.
func randomModel(r *rand.Rand, n int) *modelBucket {
	randBytes := func(size int) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	}
	root := newModelBucket()
	big := newModelBucket()
	big.seq = r.Uint64()
	for range n {
		// Long keys keep the fan-out low: several branch levels.
		big.values[string(randBytes(100+r.IntN(200)))] = randBytes(r.IntN(40))
	}
	root.nested["big"] = big
	root.nested["empty"] = newModelBucket()
	mixed := newModelBucket()
	mixed.seq = 7
	for i := range 300 {
		k := fmt.Sprintf("k%05d", i)
		switch i % 10 {
		case 0:
			mixed.values[k] = []byte{}
		case 1:
			mixed.values[k] = randBytes(1 + r.IntN(5*os.Getpagesize()))
		case 2:
			nb := newModelBucket()
			nb.seq = uint64(i)
			for j := range r.IntN(400) {
				nb.values[fmt.Sprintf("n%04d", j)] = randBytes(r.IntN(100))
			}
			if i%30 == 2 {
				nb.nested["deeper"] = newModelBucket()
			}
			mixed.nested[k] = nb
		default:
			mixed.values[k] = randBytes(r.IntN(300))
		}
	}
	mixed.values[string(randBytes(3000))] = randBytes(3 * os.Getpagesize()) // key and value beyond a page
	root.nested["mixed"] = mixed
	return root
}

// writeModel writes m's content with bw's builder and returns its root.
func writeModel(fb *fileBuilder, m *modelBucket) uint64 {
	bw := fb.bucket()
	for _, k := range m.keys() {
		if nb, ok := m.nested[k]; ok {
			bw.putBucket([]byte(k), writeModel(fb, nb), nb.seq)
		} else {
			bw.put([]byte(k), m.values[k])
		}
	}
	return bw.finish()
}

func buildModel(t *testing.T, path string, m *modelBucket) {
	t.Helper()
	fb, err := newFileBuilder(path, os.Getpagesize())
	if err != nil {
		t.Fatal(err)
	}
	if err := fb.finish(writeModel(fb, m)); err != nil {
		t.Fatal(err)
	}
}

// checkModel compares bucket b (nil: the transaction's root) with m.
func checkModel(t *testing.T, tx *bolt.Tx, b *bolt.Bucket, m *modelBucket, name string) {
	t.Helper()
	var c *bolt.Cursor
	if b == nil {
		c = tx.Cursor()
	} else {
		c = b.Cursor()
		if b.Sequence() != m.seq {
			t.Errorf("%s: sequence %d, want %d", name, b.Sequence(), m.seq)
		}
	}
	want := m.keys()
	i := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if i >= len(want) || string(k) != want[i] {
			t.Fatalf("%s: key %d is %.20q, want %d keys", name, i, k, len(want))
		}
		if nb, ok := m.nested[want[i]]; ok {
			var sub *bolt.Bucket
			if b == nil {
				sub = tx.Bucket(k)
			} else {
				sub = b.Bucket(k)
			}
			if v != nil || sub == nil {
				t.Fatalf("%s: %.20q is not a bucket", name, k)
			}
			checkModel(t, tx, sub, nb, name+"/"+want[i][:min(8, len(want[i]))])
		} else if v == nil || !bytes.Equal(v, m.values[want[i]]) {
			t.Fatalf("%s: %.20q holds %d bytes, want %d", name, k, len(v), len(m.values[want[i]]))
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%s: %d keys, want %d", name, i, len(want))
	}
}

func checkTx(t *testing.T, tx *bolt.Tx) {
	t.Helper()
	for err := range tx.Check() {
		t.Error("check:", err)
	}
}

// TestBuildFileOpensAsWritten writes random trees with the builder and
// reads them with bbolt: Check finds nothing, every key, value and
// sequence is the model's; after random Puts and Deletes through bbolt
// and a reopen, Check is still clean and the content is the model's.
func TestBuildFileOpensAsWritten(t *testing.T) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			m := randomModel(r, 20000)
			path := filepath.Join(t.TempDir(), "built.db")
			buildModel(t, path, m)
			db, err := bolt.Open(path, fileMode, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.View(func(tx *bolt.Tx) error {
				checkTx(t, tx)
				checkModel(t, tx, nil, m, "root")
				if d := tx.Bucket([]byte("big")).Stats().Depth; d < 4 {
					t.Errorf("big bucket has depth %d, want 3 branch levels and the leaves", d)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Random writes through bbolt, mirrored in the model.
			err = db.Update(func(tx *bolt.Tx) error {
				for _, name := range []string{"big", "mixed", "empty"} {
					b, mb := tx.Bucket([]byte(name)), m.nested[name]
					ks := mb.keys()
					for range 2000 {
						k := binary.BigEndian.AppendUint64(nil, r.Uint64())
						if _, nested := mb.nested[string(k)]; nested {
							continue
						}
						v := make([]byte, r.IntN(2*os.Getpagesize()))
						if err := b.Put(k, v); err != nil {
							return err
						}
						mb.values[string(k)] = v
						if len(ks) > 0 {
							d := ks[r.IntN(len(ks))]
							if _, nested := mb.nested[d]; !nested {
								if err := b.Delete([]byte(d)); err != nil {
									return err
								}
								delete(mb.values, d)
							}
						}
					}
					mb.seq++
					if err := b.SetSequence(mb.seq); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db, err = bolt.Open(path, fileMode, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.View(func(tx *bolt.Tx) error {
				checkTx(t, tx)
				checkModel(t, tx, nil, m, "root")
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBuildFileCorruptionIsSeen shows what the tests above would see of
// a meta checksum or an overflow count written wrong: bbolt refuses the
// file, or its Check reports it, or the next writes reuse a page still in
// use and a value read back differs.
func TestBuildFileCorruptionIsSeen(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	m := randomModel(r, 500)
	ps := os.Getpagesize()
	cases := map[string]func(f []byte){
		"checksum": func(f []byte) {
			for i := range 2 {
				f[i*ps+pageHeaderSize+metaChecksumOff]++
			}
		},
		"overflow": func(f []byte) {
			// Every page with overflow pages gets one fewer.
			n := 0
			for p := 2 * ps; p < len(f); p += ps {
				if ov := binary.NativeEndian.Uint32(f[p+12:]); ov > 0 {
					binary.NativeEndian.PutUint32(f[p+12:], ov-1)
					p += int(ov) * ps
					n++
				}
			}
			if n == 0 {
				t.Fatal("no page with overflow")
			}
		},
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "built.db")
			buildModel(t, path, m)
			f, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			corrupt(f)
			if err := os.WriteFile(path, f, fileMode); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, fileMode, nil)
			if err != nil {
				return // refused: seen
			}
			defer db.Close()
			problems := 0
			_ = db.View(func(tx *bolt.Tx) error {
				for range tx.Check() {
					problems++
				}
				return nil
			})
			if problems > 0 {
				return // Check reports it: seen
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("empty"))
				for i := range 200 {
					if err := b.Put(binary.BigEndian.AppendUint64(nil, uint64(i)), bytes.Repeat([]byte{0xa5}, ps)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			same := true
			_ = db.View(func(tx *bolt.Tx) error {
				mixed := m.nested["mixed"]
				b := tx.Bucket([]byte("mixed"))
				for k, v := range mixed.values {
					same = same && bytes.Equal(b.Get([]byte(k)), v)
				}
				return nil
			})
			if same {
				t.Error("a corrupted file opens and reads as written after writes")
			}
		})
	}
}
