// somhop-peers-go: the Go peers of `make bench` — gosom (SOM) and gopfield
// (Hopfield), the two libraries somhop answers — timed the way their users
// call them, on the files bench/peers/peers.py generates.
//
// Subcommands (each prints one JSON object, the same keys as peers.py):
//
//	gosom-bmu DIR [REPEAT]        som.Map.BMUs(data) with the common initial codebook (median)
//	gosom-bmu-latency DIR K       som.ClosestVec(Euclidean, x, codebook), one sample per call, p50/p99
//	gosom-train DIR OUT.npy       Map.Train(batch, 10 iterations = epochs), gaussian, radius 16, lin
//	gopfield-hopfield DIR         Network.Store(hebbian); Restore(p, "sync", 1) looped until unchanged
//	gopfield-storkey DIR P        Network.Store(storkey) of the first P patterns (O(N^3 P))
//	gopfield-latency DIR K        one-probe Restore loops, p50/p99 over K probes
//
// Timings are wall-clock around the library calls only (median of REPEAT for
// BMUs). DIR/meta.json gives the workload name and the map's rows and cols.
// The harness is ours; the libraries are built unmodified from their
// sources (scripts/bench-peers.sh).
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/milosgajdos/gopfield/hopfield"
	"github.com/milosgajdos/gosom/som"
	"gonum.org/v1/gonum/mat"
)

const epochs = 10

type metaInfo struct {
	Workload string `json:"workload"`
	Rows     int    `json:"rows"`
	Cols     int    `json:"cols"`
}

func readMeta(dir string) metaInfo {
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		die("%v", err)
	}
	var m metaInfo
	if err := json.Unmarshal(b, &m); err != nil || m.Rows < 1 || m.Cols < 1 {
		die("%s/meta.json: bad workload description", dir)
	}
	return m
}

func median(t []float64) float64 {
	s := append([]float64(nil), t...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return 0.5 * (s[len(s)/2-1] + s[len(s)/2])
}

// ---- .npy ---------------------------------------------------------------------

type npy struct {
	descr string
	shape []int
	data  []byte
}

func readNpy(path string) (*npy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		return nil, fmt.Errorf("%s: not a .npy file", path)
	}
	var hl, off int
	switch b[6] {
	case 1:
		hl, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		hl, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf("%s: .npy version %d", path, b[6])
	}
	if off+hl > len(b) {
		return nil, fmt.Errorf("%s: truncated header", path)
	}
	h := string(b[off : off+hl])
	if strings.Contains(h, "'fortran_order': True") {
		return nil, fmt.Errorf("%s: Fortran order not supported", path)
	}
	n := &npy{data: b[off+hl:]}
	i := strings.Index(h, "'descr': '")
	if i < 0 {
		return nil, fmt.Errorf("%s: no descr", path)
	}
	n.descr = h[i+10 : i+10+strings.Index(h[i+10:], "'")]
	i = strings.Index(h, "'shape': (")
	if i < 0 {
		return nil, fmt.Errorf("%s: no shape", path)
	}
	for _, f := range strings.Split(h[i+10:i+10+strings.Index(h[i+10:], ")")], ",") {
		if f = strings.TrimSpace(f); f != "" {
			v, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("%s: bad shape", path)
			}
			n.shape = append(n.shape, v)
		}
	}
	return n, nil
}

// matrix of a 2-D float32/float64 .npy as float64
func loadMatrix(path string) (*mat.Dense, error) {
	n, err := readNpy(path)
	if err != nil {
		return nil, err
	}
	if len(n.shape) != 2 {
		return nil, fmt.Errorf("%s: expected 2-D, got %v", path, n.shape)
	}
	cnt := n.shape[0] * n.shape[1]
	v := make([]float64, cnt)
	switch n.descr {
	case "<f4":
		for i := range v {
			v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(n.data[4*i:])))
		}
	case "<f8":
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(n.data[8*i:]))
		}
	default:
		return nil, fmt.Errorf("%s: dtype %s", path, n.descr)
	}
	return mat.NewDense(n.shape[0], n.shape[1], v), nil
}

// rows of a 2-D int8 .npy as float64 +-1 slices
func loadStates(path string) ([][]float64, error) {
	n, err := readNpy(path)
	if err != nil {
		return nil, err
	}
	if len(n.shape) != 2 || (n.descr != "|i1" && n.descr != "<i1") {
		return nil, fmt.Errorf("%s: expected 2-D int8, got %v %s", path, n.shape, n.descr)
	}
	out := make([][]float64, n.shape[0])
	for r := range out {
		out[r] = make([]float64, n.shape[1])
		for c := range out[r] {
			out[r][c] = float64(int8(n.data[r*n.shape[1]+c]))
		}
	}
	return out, nil
}

func writeNpyF64(path string, m mat.Matrix) error {
	r, c := m.Dims()
	h := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", r, c)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	b = append(b, h...)
	buf := make([]byte, 8)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			binary.LittleEndian.PutUint64(buf, math.Float64bits(m.At(i, j)))
			b = append(b, buf...)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ---- helpers --------------------------------------------------------------------

func emit(r map[string]interface{}) {
	r["go"] = runtime.Version()
	r["gomaxprocs"] = runtime.GOMAXPROCS(0)
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func die(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "somhop-peers-go: "+f+"\n", a...)
	os.Exit(1)
}

// float64 reference BMUs (index order, ties to the lowest index)
func refBMUs(data, cb *mat.Dense) []int {
	n, d := data.Dims()
	m, _ := cb.Dims()
	out := make([]int, n)
	for i := 0; i < n; i++ {
		x := data.RawRowView(i)
		best, bd := 0, math.Inf(1)
		for j := 0; j < m; j++ {
			w := cb.RawRowView(j)
			s := 0.0
			for k := 0; k < d; k++ {
				t := x[k] - w[k]
				s += t * t
			}
			if s < bd {
				best, bd = j, s
			}
		}
		out[i] = best
	}
	return out
}

func checksum(idx []int) int64 {
	var s int64
	for i, v := range idx {
		s = (s + int64(v)*int64(i%9973+1)) % (1 << 61)
	}
	return s
}

func newMap(data, init *mat.Dense, rows, cols int) *som.Map {
	c := &som.MapConfig{
		Grid: &som.GridConfig{Size: []int{rows, cols}, Type: "planar", UShape: "rectangle"},
		Cb: &som.CbConfig{Dim: init.RawMatrix().Cols, InitFunc: func(*mat.Dense, []int) (*mat.Dense, error) {
			return mat.DenseCopyOf(init), nil
		}},
	}
	m, err := som.NewMap(c, data)
	if err != nil {
		die("gosom NewMap: %v", err)
	}
	return m
}

// data.npy, init.npy and meta.json of a workload directory, and a gosom map
// of that grid holding the initial codebook
func loadSOMDir(dir string) (data, init *mat.Dense, mi metaInfo, m *som.Map) {
	data, err := loadMatrix(filepath.Join(dir, "data.npy"))
	if err != nil {
		die("%v", err)
	}
	if init, err = loadMatrix(filepath.Join(dir, "init.npy")); err != nil {
		die("%v", err)
	}
	mi = readMeta(dir)
	return data, init, mi, newMap(data, init, mi.Rows, mi.Cols)
}

// ---- subcommands -------------------------------------------------------------------

func gosomBMU(dir string, repeat int) {
	data, init, mi, m := loadSOMDir(dir)
	var times []float64
	var idx []int
	var err error
	for r := 0; r < repeat; r++ {
		t0 := time.Now()
		idx, err = m.BMUs(data)
		if err != nil {
			die("gosom BMUs: %v", err)
		}
		times = append(times, time.Since(t0).Seconds())
	}
	ref := refBMUs(data, init)
	agree := 0
	for i := range idx {
		if idx[i] == ref[i] {
			agree++
		}
	}
	n, _ := data.Dims()
	emit(map[string]interface{}{"peer": "gosom 1bcf4c0", "workload": mi.Workload, "seconds": median(times),
		"times": times, "n": n, "call": "som.Map.BMUs(data)", "bmu_agreement": float64(agree) / float64(len(idx)),
		"checksum": checksum(idx)})
}

func gosomBMULatency(dir string, k int) {
	data, init, _, m := loadSOMDir(dir)
	cb := m.Codebook().(*mat.Dense)
	n, _ := data.Dims()
	ref := refBMUs(data, init)
	lat := make([]float64, k)
	agree := 0
	for i := 0; i < 16 && i < n; i++ { // warm-up
		som.ClosestVec(som.Euclidean, data.RawRowView(i), cb)
	}
	for i := 0; i < k; i++ {
		x := data.RawRowView(i % n)
		t0 := time.Now()
		b, err := som.ClosestVec(som.Euclidean, x, cb)
		lat[i] = time.Since(t0).Seconds()
		if err != nil {
			die("gosom ClosestVec: %v", err)
		}
		if b == ref[i%n] {
			agree++
		}
	}
	sort.Float64s(lat)
	i99 := k * 99 / 100
	if i99 >= k {
		i99 = k - 1
	}
	emit(map[string]interface{}{"peer": "gosom 1bcf4c0", "workload": "bmu-latency", "p50_s": lat[k/2],
		"p99_s": lat[i99], "calls": k, "bmu_agreement": float64(agree) / float64(k),
		"call": "som.ClosestVec(som.Euclidean, x, m.Codebook()), one sample per call (the loop body of Map.BMUs)"})
}

func gosomTrain(dir, out string) {
	data, _, _, m := loadSOMDir(dir)
	tc := &som.TrainConfig{Algorithm: "batch", Radius: 16, RDecay: "lin", NeighbFn: som.Gaussian,
		LRate: 0.5, LDecay: "lin"}
	t0 := time.Now()
	if err := m.Train(tc, data, epochs); err != nil {
		die("gosom Train: %v", err)
	}
	secs := time.Since(t0).Seconds()
	if err := writeNpyF64(out, m.Codebook()); err != nil {
		die("%v", err)
	}
	emit(map[string]interface{}{"peer": "gosom 1bcf4c0", "workload": "train", "seconds": secs,
		"call": "Map.Train(batch, radius 16 lin, gaussian, 10 iterations)", "mode": "batch",
		"codebook": out})
}

func patternsOf(v [][]float64) []*hopfield.Pattern {
	out := make([]*hopfield.Pattern, len(v))
	for i := range v {
		out[i] = hopfield.Encode(append([]float64(nil), v[i]...))
	}
	return out
}

func network(dir, method string, p int) (*hopfield.Network, [][]float64, float64) {
	pats, err := loadStates(filepath.Join(dir, "patterns.npy"))
	if err != nil {
		die("%v", err)
	}
	if p > 0 && p < len(pats) {
		pats = pats[:p]
	}
	net, err := hopfield.NewNetwork(len(pats[0]), method)
	if err != nil {
		die("gopfield NewNetwork: %v", err)
	}
	t0 := time.Now()
	if err := net.Store(patternsOf(pats)); err != nil {
		die("gopfield Store: %v", err)
	}
	return net, pats, time.Since(t0).Seconds()
}

// Restore(p, "sync", 1) until the state stops changing (or maxSweeps).
func restore(net *hopfield.Network, v []float64, maxSweeps int) ([]float64, int) {
	p := hopfield.Encode(append([]float64(nil), v...))
	prev := append([]float64(nil), p.RawData()...)
	for s := 1; s <= maxSweeps; s++ {
		var err error
		if p, err = net.Restore(p, "sync", 1); err != nil {
			die("gopfield Restore: %v", err)
		}
		same := true
		for i, x := range p.RawData() {
			if x != prev[i] {
				same = false
				break
			}
		}
		if same {
			return p.RawData(), s
		}
		copy(prev, p.RawData())
	}
	return p.RawData(), maxSweeps
}

func gopfieldHopfield(dir string) {
	net, pats, storeS := network(dir, "hebbian", 0)
	probes, err := loadStates(filepath.Join(dir, "probes.npy"))
	if err != nil {
		die("%v", err)
	}
	exact := 0
	t0 := time.Now()
	outs := make([][]float64, len(probes))
	for i, pr := range probes {
		outs[i], _ = restore(net, pr, 20)
	}
	secs := time.Since(t0).Seconds()
	for i, o := range outs {
		ok := true
		for k, x := range o {
			if x != pats[i%len(pats)][k] {
				ok = false
				break
			}
		}
		if ok {
			exact++
		}
	}
	emit(map[string]interface{}{"peer": "gopfield 8170a0f", "workload": "hopfield", "seconds": secs,
		"call":  "Store(hebbian); Restore(p, \"sync\", 1) looped until unchanged (max 20)",
		"exact": float64(exact) / float64(len(probes)), "store_seconds": storeS})
}

func gopfieldStorkey(dir string, p int) {
	_, pats, secs := network(dir, "storkey", p)
	emit(map[string]interface{}{"peer": "gopfield 8170a0f", "workload": fmt.Sprintf("storkey-p%d", len(pats)), "seconds": secs,
		"patterns": len(pats), "n": len(pats[0]), "call": "Network.Store(patterns) with storkey"})
}

func gopfieldLatency(dir string, k int) {
	net, _, _ := network(dir, "hebbian", 0)
	probes, err := loadStates(filepath.Join(dir, "probes.npy"))
	if err != nil {
		die("%v", err)
	}
	if k > len(probes) {
		k = len(probes)
	}
	lat := make([]float64, k)
	for i := 0; i < k; i++ {
		t0 := time.Now()
		restore(net, probes[i], 20)
		lat[i] = time.Since(t0).Seconds()
	}
	sort.Float64s(lat)
	emit(map[string]interface{}{"peer": "gopfield 8170a0f", "workload": "hopfield-latency",
		"p50_s": lat[k/2], "p99_s": lat[(k*99)/100], "calls": k,
		"call": "one probe: Restore(p, \"sync\", 1) looped until unchanged"})
}

func main() {
	if len(os.Args) < 3 {
		die("usage: somhop-peers-go gosom-bmu|gosom-bmu-latency|gosom-train|gopfield-hopfield|gopfield-storkey|gopfield-latency DIR [ARG]")
	}
	arg := func(i int, def int) int {
		if len(os.Args) > i {
			v, err := strconv.Atoi(os.Args[i])
			if err != nil || v < 1 {
				die("bad number %q", os.Args[i])
			}
			return v
		}
		return def
	}
	switch os.Args[1] {
	case "gosom-bmu":
		gosomBMU(os.Args[2], arg(3, 3))
	case "gosom-bmu-latency":
		gosomBMULatency(os.Args[2], arg(3, 1000))
	case "gosom-train":
		if len(os.Args) < 4 {
			die("gosom-train DIR OUT.npy")
		}
		gosomTrain(os.Args[2], os.Args[3])
	case "gopfield-hopfield":
		gopfieldHopfield(os.Args[2])
	case "gopfield-storkey":
		gopfieldStorkey(os.Args[2], arg(3, 2))
	case "gopfield-latency":
		gopfieldLatency(os.Args[2], arg(3, 200))
	default:
		die("unknown subcommand %q", os.Args[1])
	}
}
