//! Network address kinds: the trusted proxies whose forwarding headers may
//! name the client.

use ipnet::IpNet;

use super::{list, Kind};

/// A comma-separated list of addresses or CIDR networks (`10.0.0.0/8,
/// 127.0.0.1, ::1`); empty means none.
#[derive(Debug)]
pub enum IpNetworks {}
impl Kind for IpNetworks {
    type Value = Vec<IpNet>;
    type Ref<'a> = &'a [IpNet];
    const FORM: &'static str = "comma-separated addresses or CIDR networks";
    fn parse(raw: &str) -> Result<Vec<IpNet>, String> {
        list(raw)
            .iter()
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| format!("{item:?} is not an address or a CIDR network"))
            })
            .collect()
    }
    fn show(v: &Vec<IpNet>) -> String {
        v.iter().map(IpNet::to_string).collect::<Vec<_>>().join(",")
    }
    fn get(v: &Vec<IpNet>) -> &[IpNet] {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_networks_parse_and_show_back() {
        let v = IpNetworks::parse(" 10.0.0.0/8, 127.0.0.1 ,::1,2001:db8::1/64").unwrap();
        assert_eq!(
            IpNetworks::show(&v),
            "10.0.0.0/8,127.0.0.1/32,::1/128,2001:db8::/64"
        );
        assert!(IpNetworks::parse("").unwrap().is_empty());
        assert!(IpNetworks::parse("10.0.0.0/33")
            .unwrap_err()
            .contains("10.0.0.0/33"));
        assert!(IpNetworks::parse("proxy.local").is_err());
    }
}
