// compile_me.cpp - workload (i) of `make bench`: a C++ file for cc1plus to
// compile, heavy on the standard library's templates (containers, strings,
// algorithms), as a real translation unit is.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace bench {

template <typename K, typename V>
struct Index {
	std::map<K, std::vector<V>> by_key;
	std::map<V, std::set<K>> by_value;

	void add(const K &k, const V &v)
	{
		by_key[k].push_back(v);
		by_value[v].insert(k);
	}
	std::vector<V> sorted(const K &k) const
	{
		auto it = by_key.find(k);
		if (it == by_key.end())
			return {};
		std::vector<V> out = it->second;
		std::sort(out.begin(), out.end());
		return out;
	}
};

template <int N>
struct Unrolled {
	static int sum(const std::vector<int> &v) { return v.size() > N ? v[N] + Unrolled<N - 1>::sum(v) : Unrolled<N - 1>::sum(v); }
};
template <>
struct Unrolled<0> {
	static int sum(const std::vector<int> &v) { return v.empty() ? 0 : v[0]; }
};

std::string describe(const Index<std::string, int> &ix, const std::string &k)
{
	std::string out;
	for (int v : ix.sorted(k))
		out += std::to_string(v) + ',';
	return out;
}

int count_words(const std::string &text)
{
	return (int)std::count_if(text.begin(), text.end(), [](char c) { return c == ' '; }) + 1;
}

} // namespace bench

int main(int argc, char **argv)
{
	bench::Index<std::string, int> ix;
	bench::Index<int, long> iy;
	std::vector<std::unique_ptr<std::string>> owned;

	for (int i = 1; i < argc; i++) {
		ix.add(argv[i], i);
		iy.add(i, (long)i * 2);
		owned.push_back(std::make_unique<std::string>(argv[i]));
	}
	std::vector<int> v(argc, 1);
	return (int)bench::describe(ix, argc > 1 ? argv[1] : "").size() + bench::Unrolled<64>::sum(v) +
	       bench::count_words(argc > 1 ? argv[1] : "a b c");
}
