// Package seed loads the demo master data of the Helpline backend: the
// districts, blocks and wards of Himachal Pradesh, the government
// departments, the complaint categories with their SLAs, the routing rules,
// the gazetted holidays and the helpline numbers.
package seed

// District is a district with its blocks (or municipal bodies).
type District struct {
	Code, Name, NameHi string
	Blocks             []Block
}

// Block is a development block or a municipal body inside a district.
type Block struct {
	Code, Name, NameHi string
	Wards              []Ward
}

// Ward is a ward (urban) or gram panchayat (rural) inside a block.
type Ward struct {
	Code, Name, NameHi string
}

// Department is a government department.
type Department struct {
	Code, Name, NameHi string
}

// Category is a complaint category of one department with its SLA in working days per level 1..4.
type Category struct {
	Code, Department, Name, NameHi string
	SLADays                        [4]int
	// Sensitive: the public status page shows only the department.
	Sensitive bool
}

// Rule routes a category to a department for a location node; an empty District means state-wide.
type Rule struct {
	Category, District, Block, Ward, Department string
}

// Holiday is a gazetted holiday, Date as YYYY-MM-DD.
type Holiday struct {
	Date, Name string
}

// Line is a helpline number.
type Line struct {
	Code, Name string
}

// Districts lists the 12 districts of Himachal Pradesh with a selection of
// their development blocks and municipal bodies.
var Districts = []District{
	{Code: "BILASPUR", Name: "Bilaspur", NameHi: "बिलासपुर", Blocks: []Block{
		{Code: "BILASPUR_SADAR", Name: "Sadar (Bilaspur)", NameHi: "सदर (बिलासपुर)"},
		{Code: "GHUMARWIN", Name: "Ghumarwin", NameHi: "घुमारवीं"},
		{Code: "JHANDUTTA", Name: "Jhandutta", NameHi: "झंडूता"},
		{Code: "SHRI_NAINA_DEVI", Name: "Shri Naina Devi Ji", NameHi: "श्री नैना देवी जी"},
	}},
	{Code: "CHAMBA", Name: "Chamba", NameHi: "चंबा", Blocks: []Block{
		{Code: "CHAMBA_MC", Name: "Municipal Council Chamba", NameHi: "नगर परिषद चंबा"},
		{Code: "MEHLA", Name: "Mehla", NameHi: "मैहला"},
		{Code: "BHATTIYAT", Name: "Bhattiyat", NameHi: "भटियात"},
		{Code: "SALOONI", Name: "Salooni", NameHi: "सलूणी"},
		{Code: "TISSA", Name: "Tissa", NameHi: "तीसा"},
		{Code: "BHARMOUR", Name: "Bharmour", NameHi: "भरमौर"},
	}},
	{Code: "HAMIRPUR", Name: "Hamirpur", NameHi: "हमीरपुर", Blocks: []Block{
		{Code: "HAMIRPUR_MC", Name: "Municipal Council Hamirpur", NameHi: "नगर परिषद हमीरपुर"},
		{Code: "BHORANJ", Name: "Bhoranj", NameHi: "भोरंज"},
		{Code: "BIJHAR", Name: "Bijhar", NameHi: "बिझड़ी"},
		{Code: "NADAUN", Name: "Nadaun", NameHi: "नादौन"},
		{Code: "SUJANPUR", Name: "Sujanpur", NameHi: "सुजानपुर"},
	}},
	{Code: "KANGRA", Name: "Kangra", NameHi: "कांगड़ा", Blocks: []Block{
		{Code: "DHARAMSHALA_MC", Name: "Municipal Corporation Dharamshala", NameHi: "नगर निगम धर्मशाला", Wards: []Ward{
			{Code: "DHARAMSHALA_MC_W01", Name: "Ward 1 Bhagsunag", NameHi: "वार्ड 1 भागसूनाग"},
			{Code: "DHARAMSHALA_MC_W02", Name: "Ward 2 McLeodganj", NameHi: "वार्ड 2 मैक्लोडगंज"},
			{Code: "DHARAMSHALA_MC_W03", Name: "Ward 3 Kotwali Bazar", NameHi: "वार्ड 3 कोतवाली बाजार"},
			{Code: "DHARAMSHALA_MC_W04", Name: "Ward 4 Shyam Nagar", NameHi: "वार्ड 4 श्याम नगर"},
		}},
		{Code: "PALAMPUR_MC", Name: "Municipal Corporation Palampur", NameHi: "नगर निगम पालमपुर"},
		{Code: "NAGROTA_BAGWAN", Name: "Nagrota Bagwan", NameHi: "नगरोटा बगवां"},
		{Code: "NURPUR", Name: "Nurpur", NameHi: "नूरपुर"},
		{Code: "BAIJNATH", Name: "Baijnath", NameHi: "बैजनाथ", Wards: []Ward{
			{Code: "BAIJNATH_GP_BIR", Name: "Gram Panchayat Bir", NameHi: "ग्राम पंचायत बीड़"},
			{Code: "BAIJNATH_GP_GUNEHAR", Name: "Gram Panchayat Gunehar", NameHi: "ग्राम पंचायत गुनेहड़"},
			{Code: "BAIJNATH_GP_CHADHIAR", Name: "Gram Panchayat Chadhiar", NameHi: "ग्राम पंचायत चढियार"},
		}},
		{Code: "DEHRA", Name: "Dehra", NameHi: "देहरा"},
	}},
	{Code: "KINNAUR", Name: "Kinnaur", NameHi: "किन्नौर", Blocks: []Block{
		{Code: "KALPA", Name: "Kalpa", NameHi: "कल्पा"},
		{Code: "NICHAR", Name: "Nichar", NameHi: "निचार"},
		{Code: "POOH", Name: "Pooh", NameHi: "पूह"},
	}},
	{Code: "KULLU", Name: "Kullu", NameHi: "कुल्लू", Blocks: []Block{
		{Code: "KULLU_MC", Name: "Municipal Council Kullu", NameHi: "नगर परिषद कुल्लू", Wards: []Ward{
			{Code: "KULLU_MC_W01", Name: "Ward 1 Dhalpur", NameHi: "वार्ड 1 ढालपुर"},
			{Code: "KULLU_MC_W02", Name: "Ward 2 Akhara Bazar", NameHi: "वार्ड 2 अखाड़ा बाजार"},
			{Code: "KULLU_MC_W03", Name: "Ward 3 Sarvari", NameHi: "वार्ड 3 सरवरी"},
			{Code: "KULLU_MC_W04", Name: "Ward 4 Sultanpur", NameHi: "वार्ड 4 सुल्तानपुर"},
		}},
		{Code: "MANALI_MC", Name: "Municipal Council Manali", NameHi: "नगर परिषद मनाली"},
		{Code: "NAGGAR", Name: "Naggar", NameHi: "नग्गर", Wards: []Ward{
			{Code: "NAGGAR_GP_JAGATSUKH", Name: "Gram Panchayat Jagatsukh", NameHi: "ग्राम पंचायत जगतसुख"},
			{Code: "NAGGAR_GP_NAGGAR", Name: "Gram Panchayat Naggar", NameHi: "ग्राम पंचायत नग्गर"},
			{Code: "NAGGAR_GP_HARIPUR", Name: "Gram Panchayat Haripur", NameHi: "ग्राम पंचायत हरिपुर"},
		}},
		{Code: "BANJAR", Name: "Banjar", NameHi: "बंजार"},
		{Code: "ANNI", Name: "Anni", NameHi: "आनी"},
		{Code: "NIRMAND", Name: "Nirmand", NameHi: "निरमंड"},
	}},
	{Code: "LAHAUL_SPITI", Name: "Lahaul and Spiti", NameHi: "लाहौल-स्पीति", Blocks: []Block{
		{Code: "KEYLONG", Name: "Lahaul (Keylong)", NameHi: "लाहौल (केलांग)"},
		{Code: "KAZA", Name: "Spiti (Kaza)", NameHi: "स्पीति (काजा)"},
		{Code: "LAHAUL_UDAIPUR", Name: "Udaipur", NameHi: "उदयपुर"},
	}},
	{Code: "MANDI", Name: "Mandi", NameHi: "मंडी", Blocks: []Block{
		{Code: "MANDI_MC", Name: "Municipal Corporation Mandi", NameHi: "नगर निगम मंडी", Wards: []Ward{
			{Code: "MANDI_MC_W01", Name: "Ward 1 Paddal", NameHi: "वार्ड 1 पड्डल"},
			{Code: "MANDI_MC_W02", Name: "Ward 2 Purani Mandi", NameHi: "वार्ड 2 पुरानी मंडी"},
			{Code: "MANDI_MC_W03", Name: "Ward 3 Samkhetar", NameHi: "वार्ड 3 समखेतर"},
			{Code: "MANDI_MC_W04", Name: "Ward 4 Tarna", NameHi: "वार्ड 4 टारना"},
		}},
		{Code: "MANDI_SADAR", Name: "Sadar (Mandi)", NameHi: "सदर (मंडी)"},
		{Code: "BALH", Name: "Balh", NameHi: "बल्ह", Wards: []Ward{
			{Code: "BALH_GP_RATTI", Name: "Gram Panchayat Ratti", NameHi: "ग्राम पंचायत रत्ती"},
			{Code: "BALH_GP_BHANGROTU", Name: "Gram Panchayat Bhangrotu", NameHi: "ग्राम पंचायत भंगरोटू"},
			{Code: "BALH_GP_DADOUR", Name: "Gram Panchayat Dadour", NameHi: "ग्राम पंचायत डडौर"},
		}},
		{Code: "SUNDERNAGAR", Name: "Sundernagar", NameHi: "सुंदरनगर"},
		{Code: "JOGINDERNAGAR", Name: "Jogindernagar", NameHi: "जोगिंदरनगर"},
		{Code: "KARSOG", Name: "Karsog", NameHi: "करसोग"},
	}},
	{Code: "SHIMLA", Name: "Shimla", NameHi: "शिमला", Blocks: []Block{
		{Code: "SHIMLA_MC", Name: "Municipal Corporation Shimla", NameHi: "नगर निगम शिमला", Wards: []Ward{
			{Code: "SHIMLA_MC_W01", Name: "Ward 1 Bharari", NameHi: "वार्ड 1 भराड़ी"},
			{Code: "SHIMLA_MC_W02", Name: "Ward 2 Ruldu Bhatta", NameHi: "वार्ड 2 रुलदूभट्टा"},
			{Code: "SHIMLA_MC_W03", Name: "Ward 3 Kaithu", NameHi: "वार्ड 3 कैथू"},
			{Code: "SHIMLA_MC_W04", Name: "Ward 4 Annadale", NameHi: "वार्ड 4 अनाडेल"},
			{Code: "SHIMLA_MC_W05", Name: "Ward 5 Summer Hill", NameHi: "वार्ड 5 समरहिल"},
		}},
		{Code: "MASHOBRA", Name: "Mashobra", NameHi: "मशोबरा", Wards: []Ward{
			{Code: "MASHOBRA_GP_MASHOBRA", Name: "Gram Panchayat Mashobra", NameHi: "ग्राम पंचायत मशोबरा"},
			{Code: "MASHOBRA_GP_BALDEYAN", Name: "Gram Panchayat Baldeyan", NameHi: "ग्राम पंचायत बलदेयां"},
			{Code: "MASHOBRA_GP_CHHARABRA", Name: "Gram Panchayat Chharabra", NameHi: "ग्राम पंचायत छराबड़ा"},
		}},
		{Code: "THEOG", Name: "Theog", NameHi: "ठियोग"},
		{Code: "ROHRU", Name: "Rohru", NameHi: "रोहड़ू"},
		{Code: "RAMPUR", Name: "Rampur", NameHi: "रामपुर"},
		{Code: "CHOPAL", Name: "Chopal", NameHi: "चौपाल"},
	}},
	{Code: "SIRMAUR", Name: "Sirmaur", NameHi: "सिरमौर", Blocks: []Block{
		{Code: "NAHAN", Name: "Nahan", NameHi: "नाहन"},
		{Code: "PAONTA_SAHIB", Name: "Paonta Sahib", NameHi: "पांवटा साहिब"},
		{Code: "SANGRAH", Name: "Sangrah", NameHi: "संगड़ाह"},
		{Code: "SHILLAI", Name: "Shillai", NameHi: "शिलाई"},
		{Code: "RAJGARH", Name: "Rajgarh", NameHi: "राजगढ़"},
		{Code: "PACHHAD", Name: "Pachhad", NameHi: "पच्छाद"},
	}},
	{Code: "SOLAN", Name: "Solan", NameHi: "सोलन", Blocks: []Block{
		{Code: "SOLAN_MC", Name: "Municipal Corporation Solan", NameHi: "नगर निगम सोलन"},
		{Code: "KANDAGHAT", Name: "Kandaghat", NameHi: "कंडाघाट"},
		{Code: "SOLAN_DHARAMPUR", Name: "Dharampur", NameHi: "धर्मपुर"},
		{Code: "NALAGARH", Name: "Nalagarh", NameHi: "नालागढ़"},
		{Code: "KUNIHAR", Name: "Kunihar", NameHi: "कुनिहार"},
	}},
	{Code: "UNA", Name: "Una", NameHi: "ऊना", Blocks: []Block{
		{Code: "UNA_MC", Name: "Municipal Council Una", NameHi: "नगर परिषद ऊना"},
		{Code: "AMB", Name: "Amb", NameHi: "अंब"},
		{Code: "GAGRET", Name: "Gagret", NameHi: "गगरेट"},
		{Code: "HAROLI", Name: "Haroli", NameHi: "हरोली"},
		{Code: "BANGANA", Name: "Bangana", NameHi: "बंगाणा"},
	}},
}

// Departments lists the government departments complaints are routed to.
var Departments = []Department{
	{Code: "PWD", Name: "Public Works Department", NameHi: "लोक निर्माण विभाग"},
	{Code: "JAL_SHAKTI", Name: "Jal Shakti Vibhag (Water Supply & Irrigation)", NameHi: "जल शक्ति विभाग (पेयजल एवं सिंचाई)"},
	{Code: "HEALTH", Name: "Health & Family Welfare", NameHi: "स्वास्थ्य एवं परिवार कल्याण विभाग"},
	{Code: "EDUCATION", Name: "Education", NameHi: "शिक्षा विभाग"},
	{Code: "REVENUE", Name: "Revenue", NameHi: "राजस्व विभाग"},
	{Code: "POLICE", Name: "Police (Home)", NameHi: "पुलिस विभाग (गृह)"},
	{Code: "POWER", Name: "HP State Electricity Board", NameHi: "हिमाचल प्रदेश राज्य विद्युत बोर्ड"},
	{Code: "URBAN_DEVELOPMENT", Name: "Urban Development", NameHi: "शहरी विकास विभाग"},
	{Code: "RURAL_DEVELOPMENT", Name: "Rural Development & Panchayati Raj", NameHi: "ग्रामीण विकास एवं पंचायती राज विभाग"},
	{Code: "FOOD_SUPPLIES", Name: "Food, Civil Supplies & Consumer Affairs", NameHi: "खाद्य, नागरिक आपूर्ति एवं उपभोक्ता मामले विभाग"},
	{Code: "SOCIAL_JUSTICE", Name: "Social Justice & Empowerment", NameHi: "सामाजिक न्याय एवं अधिकारिता विभाग"},
	{Code: "TRANSPORT", Name: "Transport (HRTC)", NameHi: "परिवहन विभाग (एचआरटीसी)"},
	{Code: "FOREST", Name: "Forest", NameHi: "वन विभाग"},
	{Code: "AGRICULTURE", Name: "Agriculture", NameHi: "कृषि विभाग"},
	{Code: "HORTICULTURE", Name: "Horticulture", NameHi: "उद्यान विभाग"},
	{Code: "ANIMAL_HUSBANDRY", Name: "Animal Husbandry", NameHi: "पशुपालन विभाग"},
	{Code: "LABOUR", Name: "Labour & Employment", NameHi: "श्रम एवं रोजगार विभाग"},
	{Code: "TOURISM", Name: "Tourism & Civil Aviation", NameHi: "पर्यटन एवं नागरिक उड्डयन विभाग"},
}

// Categories lists the complaint categories. SLADays follow three shapes:
// urgent {2, 2, 3, 3}, ordinary {7, 5, 5, 3} and long {15, 10, 7, 7}.
// GENERAL_OTHER deliberately has no routing rule so that its complaints land
// in the unrouted queue.
var Categories = []Category{
	// Public Works.
	{Code: "PWD_ROAD_POTHOLES", Department: "PWD", Name: "Potholes on road", NameHi: "सड़क पर गड्ढे", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "PWD_ROAD_BLOCKED_LANDSLIDE", Department: "PWD", Name: "Road blocked by landslide / debris", NameHi: "भूस्खलन से सड़क बंद", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "PWD_ROAD_SNOW_CLEARANCE", Department: "PWD", Name: "Snow not cleared from road", NameHi: "सड़क से बर्फ नहीं हटाई गई", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "PWD_DRAIN_CULVERT_BLOCKED", Department: "PWD", Name: "Roadside drain / culvert blocked", NameHi: "सड़क किनारे नाली/पुलिया बंद", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "PWD_BRIDGE_DAMAGED", Department: "PWD", Name: "Damaged bridge or crash barrier", NameHi: "पुल/क्रैश बैरियर क्षतिग्रस्त", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "PWD_ROAD_CONSTRUCTION_QUALITY", Department: "PWD", Name: "Poor quality of road construction", NameHi: "सड़क निर्माण की खराब गुणवत्ता", SLADays: [4]int{15, 10, 7, 7}},

	// Jal Shakti.
	{Code: "JAL_SHAKTI_NO_WATER_SUPPLY", Department: "JAL_SHAKTI", Name: "No water supply", NameHi: "पानी की आपूर्ति नहीं", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "JAL_SHAKTI_CONTAMINATED_WATER", Department: "JAL_SHAKTI", Name: "Contaminated / muddy drinking water", NameHi: "गंदा/दूषित पेयजल", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "JAL_SHAKTI_PIPELINE_LEAKAGE", Department: "JAL_SHAKTI", Name: "Water pipeline leakage", NameHi: "पानी की पाइपलाइन में रिसाव", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "JAL_SHAKTI_HANDPUMP_REPAIR", Department: "JAL_SHAKTI", Name: "Hand pump not working", NameHi: "हैंडपंप खराब", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "JAL_SHAKTI_IRRIGATION_KUHL", Department: "JAL_SHAKTI", Name: "Irrigation scheme / kuhl not functioning", NameHi: "सिंचाई योजना/कूहल बंद", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "JAL_SHAKTI_NEW_CONNECTION_DELAY", Department: "JAL_SHAKTI", Name: "Delay in new water connection", NameHi: "नया पानी कनेक्शन मिलने में देरी", SLADays: [4]int{15, 10, 7, 7}},

	// Health.
	{Code: "HEALTH_DOCTOR_ABSENT", Department: "HEALTH", Name: "Doctor absent at health institution", NameHi: "अस्पताल में डॉक्टर उपस्थित नहीं", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "HEALTH_MEDICINE_SHORTAGE", Department: "HEALTH", Name: "Medicines not available", NameHi: "अस्पताल में दवाइयाँ उपलब्ध नहीं", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "HEALTH_AMBULANCE_DELAY", Department: "HEALTH", Name: "Ambulance (108/102) delayed", NameHi: "एम्बुलेंस (108/102) देर से पहुँची", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "HEALTH_HIMCARE_CLAIM", Department: "HEALTH", Name: "Treatment refused under HIMCARE / Ayushman card", NameHi: "हिमकेयर/आयुष्मान कार्ड पर इलाज नहीं", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "HEALTH_HOSPITAL_SANITATION", Department: "HEALTH", Name: "Unhygienic hospital premises", NameHi: "अस्पताल में गंदगी", SLADays: [4]int{7, 5, 5, 3}},

	// Education.
	{Code: "EDUCATION_TEACHER_ABSENT", Department: "EDUCATION", Name: "Teacher absent / teacher post vacant", NameHi: "शिक्षक अनुपस्थित/पद खाली", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "EDUCATION_MID_DAY_MEAL", Department: "EDUCATION", Name: "Poor quality of mid-day meal", NameHi: "मिड-डे मील की खराब गुणवत्ता", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "EDUCATION_SCHOLARSHIP_DELAY", Department: "EDUCATION", Name: "Scholarship not received", NameHi: "छात्रवृत्ति नहीं मिली", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "EDUCATION_SCHOOL_BUILDING", Department: "EDUCATION", Name: "Unsafe / dilapidated school building", NameHi: "स्कूल भवन असुरक्षित/जर्जर", SLADays: [4]int{15, 10, 7, 7}},

	// Revenue.
	{Code: "REVENUE_MUTATION_DELAY", Department: "REVENUE", Name: "Delay in mutation (intkal)", NameHi: "इंतकाल/म्यूटेशन में देरी", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "REVENUE_DEMARCATION_PENDING", Department: "REVENUE", Name: "Land demarcation (nishandehi) pending", NameHi: "निशानदेही लंबित", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "REVENUE_JAMABANDI_CORRECTION", Department: "REVENUE", Name: "Error in jamabandi / land records", NameHi: "जमाबंदी/भू-अभिलेख में त्रुटि", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "REVENUE_CERTIFICATE_DELAY", Department: "REVENUE", Name: "Delay in bonafide / income / caste certificate", NameHi: "हिमाचली/आय/जाति प्रमाण पत्र में देरी", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "REVENUE_DISASTER_RELIEF", Department: "REVENUE", Name: "Disaster relief not received", NameHi: "आपदा राहत राशि नहीं मिली", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "GENERAL_OTHER", Department: "REVENUE", Name: "Other / general grievance", NameHi: "अन्य शिकायत", SLADays: [4]int{7, 5, 5, 3}},

	// Police.
	{Code: "POLICE_FIR_NOT_REGISTERED", Department: "POLICE", Name: "FIR not registered", NameHi: "एफआईआर दर्ज नहीं की गई", SLADays: [4]int{2, 2, 3, 3}, Sensitive: true},
	{Code: "POLICE_DRUG_PEDDLING", Department: "POLICE", Name: "Drug (chitta) peddling", NameHi: "नशा/चिट्टा बिक्री", SLADays: [4]int{2, 2, 3, 3}, Sensitive: true},
	{Code: "POLICE_TRAFFIC_PARKING", Department: "POLICE", Name: "Traffic jam / illegal parking", NameHi: "यातायात जाम/अवैध पार्किंग", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "POLICE_VERIFICATION_DELAY", Department: "POLICE", Name: "Delay in police verification", NameHi: "पुलिस सत्यापन में देरी", SLADays: [4]int{7, 5, 5, 3}},

	// Electricity.
	{Code: "POWER_OUTAGE", Department: "POWER", Name: "Power outage", NameHi: "बिजली गुल/बिजली आपूर्ति बंद", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "POWER_TRANSFORMER", Department: "POWER", Name: "Transformer damaged / overloaded", NameHi: "ट्रांसफार्मर खराब", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "POWER_LOOSE_WIRES", Department: "POWER", Name: "Dangerous loose wires / leaning pole", NameHi: "झूलती तारें/टेढ़ा खंभा", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "POWER_LOW_VOLTAGE", Department: "POWER", Name: "Low voltage", NameHi: "कम वोल्टेज", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "POWER_BILLING", Department: "POWER", Name: "Wrong electricity bill", NameHi: "बिजली का गलत बिल", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "POWER_NEW_CONNECTION_DELAY", Department: "POWER", Name: "Delay in new electricity connection", NameHi: "नया बिजली कनेक्शन मिलने में देरी", SLADays: [4]int{15, 10, 7, 7}},

	// Urban development.
	{Code: "URBAN_DEVELOPMENT_GARBAGE", Department: "URBAN_DEVELOPMENT", Name: "Garbage not collected", NameHi: "कूड़ा नहीं उठाया गया", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "URBAN_DEVELOPMENT_STREETLIGHT", Department: "URBAN_DEVELOPMENT", Name: "Streetlight not working", NameHi: "स्ट्रीट लाइट खराब", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "URBAN_DEVELOPMENT_SEWERAGE", Department: "URBAN_DEVELOPMENT", Name: "Sewerage blocked / overflowing", NameHi: "सीवरेज जाम/ओवरफ्लो", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "URBAN_DEVELOPMENT_STRAY_ANIMALS", Department: "URBAN_DEVELOPMENT", Name: "Stray dogs / monkeys menace", NameHi: "आवारा कुत्तों/बंदरों का आतंक", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "URBAN_DEVELOPMENT_ILLEGAL_CONSTRUCTION", Department: "URBAN_DEVELOPMENT", Name: "Illegal construction", NameHi: "अवैध निर्माण", SLADays: [4]int{15, 10, 7, 7}},

	// Rural development.
	{Code: "RURAL_DEVELOPMENT_MGNREGA_WAGES", Department: "RURAL_DEVELOPMENT", Name: "MGNREGA wages not paid", NameHi: "मनरेगा मजदूरी का भुगतान नहीं", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "RURAL_DEVELOPMENT_PMAY_HOUSING", Department: "RURAL_DEVELOPMENT", Name: "PMAY-G housing instalment not received", NameHi: "प्रधानमंत्री आवास योजना की किस्त नहीं मिली", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "RURAL_DEVELOPMENT_PANCHAYAT_WORKS", Department: "RURAL_DEVELOPMENT", Name: "Panchayat development work incomplete", NameHi: "पंचायत विकास कार्य अधूरा", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "RURAL_DEVELOPMENT_SANITATION", Department: "RURAL_DEVELOPMENT", Name: "Village sanitation / solid waste", NameHi: "गाँव में सफाई/कूड़ा प्रबंधन", SLADays: [4]int{7, 5, 5, 3}},

	// Food & civil supplies.
	{Code: "FOOD_SUPPLIES_RATION_NOT_RECEIVED", Department: "FOOD_SUPPLIES", Name: "Ration not received at depot", NameHi: "डिपो से राशन नहीं मिला", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "FOOD_SUPPLIES_DEPOT_MALPRACTICE", Department: "FOOD_SUPPLIES", Name: "Short weighing / overcharging at depot", NameHi: "डिपो पर कम तोल/अधिक वसूली", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "FOOD_SUPPLIES_RATION_CARD", Department: "FOOD_SUPPLIES", Name: "Ration card not issued / correction pending", NameHi: "राशन कार्ड बनवाने/सुधार में देरी", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "FOOD_SUPPLIES_LPG_SUPPLY", Department: "FOOD_SUPPLIES", Name: "LPG cylinder delivery delayed", NameHi: "गैस सिलेंडर की आपूर्ति में देरी", SLADays: [4]int{2, 2, 3, 3}},

	// Social justice.
	{Code: "SOCIAL_JUSTICE_PENSION_DELAY", Department: "SOCIAL_JUSTICE", Name: "Pension not received (old age / widow / disability)", NameHi: "पेंशन नहीं मिली (वृद्धावस्था/विधवा/दिव्यांग)", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "SOCIAL_JUSTICE_PENSION_SANCTION", Department: "SOCIAL_JUSTICE", Name: "New pension case pending sanction", NameHi: "नई पेंशन स्वीकृति लंबित", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "SOCIAL_JUSTICE_DISABILITY_AID", Department: "SOCIAL_JUSTICE", Name: "Aids & appliances for persons with disabilities", NameHi: "दिव्यांगजनों हेतु सहायक उपकरण", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "SOCIAL_JUSTICE_MARRIAGE_GRANT", Department: "SOCIAL_JUSTICE", Name: "Marriage grant not received", NameHi: "विवाह अनुदान नहीं मिला", SLADays: [4]int{15, 10, 7, 7}},

	// Transport.
	{Code: "TRANSPORT_BUS_NOT_STOPPING", Department: "TRANSPORT", Name: "HRTC bus not stopping at bus stop", NameHi: "बस स्टॉप पर बस नहीं रुकती", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "TRANSPORT_BUS_SERVICE_IRREGULAR", Department: "TRANSPORT", Name: "Bus service discontinued / irregular", NameHi: "बस सेवा बंद/अनियमित", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "TRANSPORT_STAFF_MISBEHAVIOUR", Department: "TRANSPORT", Name: "Misbehaviour by driver / conductor", NameHi: "चालक/परिचालक का दुर्व्यवहार", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "TRANSPORT_FARE_OVERCHARGING", Department: "TRANSPORT", Name: "Excess fare charged / no ticket issued", NameHi: "अधिक किराया वसूली/टिकट नहीं दिया", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "TRANSPORT_LICENCE_RC_DELAY", Department: "TRANSPORT", Name: "Delay in driving licence / RC", NameHi: "ड्राइविंग लाइसेंस/आरसी में देरी", SLADays: [4]int{15, 10, 7, 7}},

	// Forest.
	{Code: "FOREST_FIRE", Department: "FOREST", Name: "Forest fire", NameHi: "जंगल में आग", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "FOREST_ILLEGAL_FELLING", Department: "FOREST", Name: "Illegal tree felling", NameHi: "पेड़ों का अवैध कटान", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "FOREST_WILDLIFE_DAMAGE", Department: "FOREST", Name: "Crop / property damage by wild animals", NameHi: "जंगली जानवरों से फसल/जान-माल का नुकसान", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "FOREST_DANGEROUS_TREE", Department: "FOREST", Name: "Dangerous tree near house / road", NameHi: "घर/सड़क के पास खतरनाक पेड़", SLADays: [4]int{7, 5, 5, 3}},

	// Agriculture.
	{Code: "AGRICULTURE_SEED_FERTILIZER", Department: "AGRICULTURE", Name: "Seed / fertilizer not available", NameHi: "बीज/खाद उपलब्ध नहीं", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "AGRICULTURE_PM_KISAN", Department: "AGRICULTURE", Name: "PM-Kisan instalment not received", NameHi: "पीएम किसान की किस्त नहीं मिली", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "AGRICULTURE_CROP_INSURANCE", Department: "AGRICULTURE", Name: "Crop insurance claim pending", NameHi: "फसल बीमा दावा लंबित", SLADays: [4]int{15, 10, 7, 7}},

	// Horticulture.
	{Code: "HORTICULTURE_APPLE_MIS", Department: "HORTICULTURE", Name: "Apple MIS payment pending", NameHi: "सेब एमआईएस भुगतान लंबित", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "HORTICULTURE_ANTI_HAIL_NET", Department: "HORTICULTURE", Name: "Anti-hail net subsidy pending", NameHi: "एंटी-हेल नेट अनुदान लंबित", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "HORTICULTURE_PLANT_MATERIAL", Department: "HORTICULTURE", Name: "Poor quality plants from nursery", NameHi: "नर्सरी से खराब गुणवत्ता के पौधे", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "HORTICULTURE_SPRAY_NOT_AVAILABLE", Department: "HORTICULTURE", Name: "Spray / pesticide not available at centre", NameHi: "केंद्र पर स्प्रे/कीटनाशक उपलब्ध नहीं", SLADays: [4]int{7, 5, 5, 3}},

	// Animal husbandry.
	{Code: "ANIMAL_HUSBANDRY_VET_ABSENT", Department: "ANIMAL_HUSBANDRY", Name: "Veterinary doctor not available", NameHi: "पशु चिकित्सक उपलब्ध नहीं", SLADays: [4]int{2, 2, 3, 3}},
	{Code: "ANIMAL_HUSBANDRY_STRAY_CATTLE", Department: "ANIMAL_HUSBANDRY", Name: "Stray cattle (besahara pashu)", NameHi: "बेसहारा पशु", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "ANIMAL_HUSBANDRY_MEDICINE_VACCINE", Department: "ANIMAL_HUSBANDRY", Name: "Animal medicine / vaccine not available", NameHi: "पशु दवाई/टीका उपलब्ध नहीं", SLADays: [4]int{7, 5, 5, 3}},

	// Labour.
	{Code: "LABOUR_WAGES_UNPAID", Department: "LABOUR", Name: "Wages not paid by employer", NameHi: "नियोक्ता द्वारा वेतन नहीं दिया गया", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "LABOUR_BOCW_BENEFIT", Department: "LABOUR", Name: "Construction workers' welfare board benefit pending", NameHi: "भवन एवं अन्य सन्निर्माण कामगार बोर्ड का लाभ लंबित", SLADays: [4]int{15, 10, 7, 7}},
	{Code: "LABOUR_EMPLOYMENT_EXCHANGE", Department: "LABOUR", Name: "Employment exchange registration issue", NameHi: "रोजगार कार्यालय पंजीकरण समस्या", SLADays: [4]int{7, 5, 5, 3}},

	// Tourism.
	{Code: "TOURISM_OVERCHARGING", Department: "TOURISM", Name: "Hotel / taxi overcharging tourists", NameHi: "होटल/टैक्सी द्वारा अधिक वसूली", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "TOURISM_SPOT_CLEANLINESS", Department: "TOURISM", Name: "Cleanliness at tourist spot", NameHi: "पर्यटन स्थल पर गंदगी", SLADays: [4]int{7, 5, 5, 3}},
	{Code: "TOURISM_HPTDC_BOOKING", Department: "TOURISM", Name: "HPTDC booking / refund issue", NameHi: "एचपीटीडीसी बुकिंग/रिफंड समस्या", SLADays: [4]int{7, 5, 5, 3}},
}

// Rules lists the routing rules: one state-wide rule per category (except
// GENERAL_OTHER), followed by district, block and ward level overrides.
var Rules = []Rule{
	// State-wide defaults: each category goes to its own department.
	{Category: "PWD_ROAD_POTHOLES", Department: "PWD"},
	{Category: "PWD_ROAD_BLOCKED_LANDSLIDE", Department: "PWD"},
	{Category: "PWD_ROAD_SNOW_CLEARANCE", Department: "PWD"},
	{Category: "PWD_DRAIN_CULVERT_BLOCKED", Department: "PWD"},
	{Category: "PWD_BRIDGE_DAMAGED", Department: "PWD"},
	{Category: "PWD_ROAD_CONSTRUCTION_QUALITY", Department: "PWD"},
	{Category: "JAL_SHAKTI_NO_WATER_SUPPLY", Department: "JAL_SHAKTI"},
	{Category: "JAL_SHAKTI_CONTAMINATED_WATER", Department: "JAL_SHAKTI"},
	{Category: "JAL_SHAKTI_PIPELINE_LEAKAGE", Department: "JAL_SHAKTI"},
	{Category: "JAL_SHAKTI_HANDPUMP_REPAIR", Department: "JAL_SHAKTI"},
	{Category: "JAL_SHAKTI_IRRIGATION_KUHL", Department: "JAL_SHAKTI"},
	{Category: "JAL_SHAKTI_NEW_CONNECTION_DELAY", Department: "JAL_SHAKTI"},
	{Category: "HEALTH_DOCTOR_ABSENT", Department: "HEALTH"},
	{Category: "HEALTH_MEDICINE_SHORTAGE", Department: "HEALTH"},
	{Category: "HEALTH_AMBULANCE_DELAY", Department: "HEALTH"},
	{Category: "HEALTH_HIMCARE_CLAIM", Department: "HEALTH"},
	{Category: "HEALTH_HOSPITAL_SANITATION", Department: "HEALTH"},
	{Category: "EDUCATION_TEACHER_ABSENT", Department: "EDUCATION"},
	{Category: "EDUCATION_MID_DAY_MEAL", Department: "EDUCATION"},
	{Category: "EDUCATION_SCHOLARSHIP_DELAY", Department: "EDUCATION"},
	{Category: "EDUCATION_SCHOOL_BUILDING", Department: "EDUCATION"},
	{Category: "REVENUE_MUTATION_DELAY", Department: "REVENUE"},
	{Category: "REVENUE_DEMARCATION_PENDING", Department: "REVENUE"},
	{Category: "REVENUE_JAMABANDI_CORRECTION", Department: "REVENUE"},
	{Category: "REVENUE_CERTIFICATE_DELAY", Department: "REVENUE"},
	{Category: "REVENUE_DISASTER_RELIEF", Department: "REVENUE"},
	{Category: "POLICE_FIR_NOT_REGISTERED", Department: "POLICE"},
	{Category: "POLICE_DRUG_PEDDLING", Department: "POLICE"},
	{Category: "POLICE_TRAFFIC_PARKING", Department: "POLICE"},
	{Category: "POLICE_VERIFICATION_DELAY", Department: "POLICE"},
	{Category: "POWER_OUTAGE", Department: "POWER"},
	{Category: "POWER_TRANSFORMER", Department: "POWER"},
	{Category: "POWER_LOOSE_WIRES", Department: "POWER"},
	{Category: "POWER_LOW_VOLTAGE", Department: "POWER"},
	{Category: "POWER_BILLING", Department: "POWER"},
	{Category: "POWER_NEW_CONNECTION_DELAY", Department: "POWER"},
	{Category: "URBAN_DEVELOPMENT_GARBAGE", Department: "URBAN_DEVELOPMENT"},
	{Category: "URBAN_DEVELOPMENT_STREETLIGHT", Department: "URBAN_DEVELOPMENT"},
	{Category: "URBAN_DEVELOPMENT_SEWERAGE", Department: "URBAN_DEVELOPMENT"},
	{Category: "URBAN_DEVELOPMENT_STRAY_ANIMALS", Department: "URBAN_DEVELOPMENT"},
	{Category: "URBAN_DEVELOPMENT_ILLEGAL_CONSTRUCTION", Department: "URBAN_DEVELOPMENT"},
	{Category: "RURAL_DEVELOPMENT_MGNREGA_WAGES", Department: "RURAL_DEVELOPMENT"},
	{Category: "RURAL_DEVELOPMENT_PMAY_HOUSING", Department: "RURAL_DEVELOPMENT"},
	{Category: "RURAL_DEVELOPMENT_PANCHAYAT_WORKS", Department: "RURAL_DEVELOPMENT"},
	{Category: "RURAL_DEVELOPMENT_SANITATION", Department: "RURAL_DEVELOPMENT"},
	{Category: "FOOD_SUPPLIES_RATION_NOT_RECEIVED", Department: "FOOD_SUPPLIES"},
	{Category: "FOOD_SUPPLIES_DEPOT_MALPRACTICE", Department: "FOOD_SUPPLIES"},
	{Category: "FOOD_SUPPLIES_RATION_CARD", Department: "FOOD_SUPPLIES"},
	{Category: "FOOD_SUPPLIES_LPG_SUPPLY", Department: "FOOD_SUPPLIES"},
	{Category: "SOCIAL_JUSTICE_PENSION_DELAY", Department: "SOCIAL_JUSTICE"},
	{Category: "SOCIAL_JUSTICE_PENSION_SANCTION", Department: "SOCIAL_JUSTICE"},
	{Category: "SOCIAL_JUSTICE_DISABILITY_AID", Department: "SOCIAL_JUSTICE"},
	{Category: "SOCIAL_JUSTICE_MARRIAGE_GRANT", Department: "SOCIAL_JUSTICE"},
	{Category: "TRANSPORT_BUS_NOT_STOPPING", Department: "TRANSPORT"},
	{Category: "TRANSPORT_BUS_SERVICE_IRREGULAR", Department: "TRANSPORT"},
	{Category: "TRANSPORT_STAFF_MISBEHAVIOUR", Department: "TRANSPORT"},
	{Category: "TRANSPORT_FARE_OVERCHARGING", Department: "TRANSPORT"},
	{Category: "TRANSPORT_LICENCE_RC_DELAY", Department: "TRANSPORT"},
	{Category: "FOREST_FIRE", Department: "FOREST"},
	{Category: "FOREST_ILLEGAL_FELLING", Department: "FOREST"},
	{Category: "FOREST_WILDLIFE_DAMAGE", Department: "FOREST"},
	{Category: "FOREST_DANGEROUS_TREE", Department: "FOREST"},
	{Category: "AGRICULTURE_SEED_FERTILIZER", Department: "AGRICULTURE"},
	{Category: "AGRICULTURE_PM_KISAN", Department: "AGRICULTURE"},
	{Category: "AGRICULTURE_CROP_INSURANCE", Department: "AGRICULTURE"},
	{Category: "HORTICULTURE_APPLE_MIS", Department: "HORTICULTURE"},
	{Category: "HORTICULTURE_ANTI_HAIL_NET", Department: "HORTICULTURE"},
	{Category: "HORTICULTURE_PLANT_MATERIAL", Department: "HORTICULTURE"},
	{Category: "HORTICULTURE_SPRAY_NOT_AVAILABLE", Department: "HORTICULTURE"},
	{Category: "ANIMAL_HUSBANDRY_VET_ABSENT", Department: "ANIMAL_HUSBANDRY"},
	{Category: "ANIMAL_HUSBANDRY_STRAY_CATTLE", Department: "ANIMAL_HUSBANDRY"},
	{Category: "ANIMAL_HUSBANDRY_MEDICINE_VACCINE", Department: "ANIMAL_HUSBANDRY"},
	{Category: "LABOUR_WAGES_UNPAID", Department: "LABOUR"},
	{Category: "LABOUR_BOCW_BENEFIT", Department: "LABOUR"},
	{Category: "LABOUR_EMPLOYMENT_EXCHANGE", Department: "LABOUR"},
	{Category: "TOURISM_OVERCHARGING", Department: "TOURISM"},
	{Category: "TOURISM_SPOT_CLEANLINESS", Department: "TOURISM"},
	{Category: "TOURISM_HPTDC_BOOKING", Department: "TOURISM"},

	// District overrides: Kinnaur and Lahaul-Spiti have no urban local
	// bodies, so waste collection is a panchayat matter there.
	{Category: "URBAN_DEVELOPMENT_GARBAGE", District: "KINNAUR", Department: "RURAL_DEVELOPMENT"},
	{Category: "URBAN_DEVELOPMENT_GARBAGE", District: "LAHAUL_SPITI", Department: "RURAL_DEVELOPMENT"},

	// Block overrides.
	// In Shimla city the municipal corporation (through its water company)
	// supplies drinking water, not Jal Shakti.
	{Category: "JAL_SHAKTI_NO_WATER_SUPPLY", District: "SHIMLA", Block: "SHIMLA_MC", Department: "URBAN_DEVELOPMENT"},
	{Category: "JAL_SHAKTI_CONTAMINATED_WATER", District: "SHIMLA", Block: "SHIMLA_MC", Department: "URBAN_DEVELOPMENT"},
	// In rural blocks garbage and streetlights are handled by the panchayats.
	{Category: "URBAN_DEVELOPMENT_GARBAGE", District: "SHIMLA", Block: "MASHOBRA", Department: "RURAL_DEVELOPMENT"},
	{Category: "URBAN_DEVELOPMENT_GARBAGE", District: "KANGRA", Block: "BAIJNATH", Department: "RURAL_DEVELOPMENT"},
	{Category: "URBAN_DEVELOPMENT_GARBAGE", District: "KULLU", Block: "NAGGAR", Department: "RURAL_DEVELOPMENT"},
	{Category: "URBAN_DEVELOPMENT_STREETLIGHT", District: "MANDI", Block: "BALH", Department: "RURAL_DEVELOPMENT"},
	// Monkey menace outside towns is a Forest (wildlife) matter.
	{Category: "URBAN_DEVELOPMENT_STRAY_ANIMALS", District: "SHIMLA", Block: "MASHOBRA", Department: "FOREST"},

	// Ward override: in McLeodganj the municipal corporation keeps the
	// tourist spots clean.
	{Category: "TOURISM_SPOT_CLEANLINESS", District: "KANGRA", Block: "DHARAMSHALA_MC", Ward: "DHARAMSHALA_MC_W02", Department: "URBAN_DEVELOPMENT"},
}

// Holidays lists the gazetted holidays of Himachal Pradesh for 2026 and the
// fixed-date ones of 2027. Lunar-calendar dates follow the notified list as
// best known and may shift by a day.
var Holidays = []Holiday{
	{Date: "2026-01-26", Name: "Republic Day"},
	{Date: "2026-02-01", Name: "Guru Ravidas Jayanti"},
	{Date: "2026-02-15", Name: "Maha Shivratri"},
	{Date: "2026-03-04", Name: "Holi"},
	{Date: "2026-03-21", Name: "Id-ul-Fitr"},
	{Date: "2026-03-26", Name: "Ram Navami"},
	{Date: "2026-03-31", Name: "Mahavir Jayanti"},
	{Date: "2026-04-03", Name: "Good Friday"},
	{Date: "2026-04-14", Name: "Dr. B.R. Ambedkar Jayanti / Baisakhi"},
	{Date: "2026-04-15", Name: "Himachal Day"},
	{Date: "2026-05-01", Name: "Buddha Purnima"},
	{Date: "2026-05-27", Name: "Id-ul-Zuha (Bakrid)"},
	{Date: "2026-08-15", Name: "Independence Day"},
	{Date: "2026-09-04", Name: "Janmashtami"},
	{Date: "2026-10-02", Name: "Gandhi Jayanti"},
	{Date: "2026-10-20", Name: "Dussehra"},
	{Date: "2026-10-26", Name: "Maharishi Valmiki Jayanti"},
	{Date: "2026-11-08", Name: "Diwali"},
	{Date: "2026-11-24", Name: "Guru Nanak Jayanti"},
	{Date: "2026-12-25", Name: "Christmas Day"},
	{Date: "2027-01-26", Name: "Republic Day"},
	{Date: "2027-04-14", Name: "Dr. B.R. Ambedkar Jayanti"},
	{Date: "2027-04-15", Name: "Himachal Day"},
	{Date: "2027-08-15", Name: "Independence Day"},
	{Date: "2027-10-02", Name: "Gandhi Jayanti"},
	{Date: "2027-12-25", Name: "Christmas Day"},
}

// Lines lists the helpline numbers complaints can come in on.
var Lines = []Line{
	{Code: "1100", Name: "CM Sewa Sankalp Helpline"},
	{Code: "181", Name: "Women Helpline"},
	{Code: "1077", Name: "Disaster Management Helpline"},
}
